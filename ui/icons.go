package ui

import "fyne.io/fyne/v2"

// Icons Fyne's theme lacks, as SVG; theme.NewColoredResource recolours their black fill. They
// are never modified.
var (
	micIcon = fyne.NewStaticResource("mic.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">`+
		`<path fill="#000000" d="M12 14.5a3.5 3.5 0 0 0 3.5-3.5V5a3.5 3.5 0 0 0-7 0v6a3.5 3.5 0 0 0 3.5 3.5z`+
		`M18 11a6 6 0 0 1-12 0H4.2a7.8 7.8 0 0 0 6.9 7.75V22h1.8v-3.25A7.8 7.8 0 0 0 19.8 11z"/></svg>`))
	thinkingIcon = fyne.NewStaticResource("thinking.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">`+
		`<circle fill="#000000" cx="5" cy="12" r="2.4"/><circle fill="#000000" cx="12" cy="12" r="2.4"/>`+
		`<circle fill="#000000" cx="19" cy="12" r="2.4"/></svg>`))
)
