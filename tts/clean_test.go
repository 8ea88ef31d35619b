package tts

import "testing"

func TestClean(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		// Markdown.
		{"plain text is kept", "Hello there. How are you?", "Hello there. How are you?"},
		{"bold and italics", "This is **very** important and *quite* _subtle_.", "This is very important and quite subtle."},
		{"heading becomes a phrase", "## Getting started\nFirst, install it.", "Getting started. First, install it."},
		{"bulleted list", "You need:\n- flour\n- two eggs\n* milk!", "You need: flour. two eggs. milk!"},
		{"numbered list", "Steps:\n1. Open the app\n2) Press start", "Steps: Open the app. Press start."},
		{"task list", "- [x] done\n- [ ] todo", "done. todo."},
		{"code fence dropped", "Run this:\n```go\nfmt.Println(\"hi\")\n```\nThen look.", "Run this: Then look."},
		{"tilde fence dropped", "A\n~~~\ncode\n~~~\nB", "A B"},
		{"unclosed fence dropped", "Try:\n```\nrm -rf /", "Try:"},
		{"inline code keeps its word", "Call `make test` now.", "Call make test now."},
		{"blockquote", "> Be kind.\n> Always.", "Be kind. Always."},
		{"horizontal rule", "One.\n\n---\n\nTwo.", "One. Two."},
		{"table", "| Name | Age |\n|------|----:|\n| Ann | 5 |", "Name, Age. Ann, 5."},
		{"html tags", "Line one<br>line <b>two</b>", "Line one line two"},
		{"entities", "Tom &amp; Jerry", "Tom and Jerry"},
		{"strikethrough", "It was ~~red~~ blue.", "It was red blue."},
		{"snake case", "Set max_tokens now.", "Set max tokens now."},
		// Links and URLs.
		{"markdown link keeps text", "See [the docs](https://example.com/a/b?c=d) for more.", "See the docs for more."},
		{"image keeps alt text", "![a cat](cat.png) sits.", "a cat sits."},
		{"bare url becomes host", "Visit https://www.example.com/path/to?q=1.", "Visit example.com."},
		{"www url", "Go to www.go.dev/doc today", "Go to go.dev today"},
		{"autolink", "Mail <https://lists.debian.org/x> please", "Mail lists.debian.org please"},
		{"email kept", "Write to bob@example.com.", "Write to bob@example.com."},
		// Emoji and symbols.
		{"emoji removed", "Great job! 🎉👍🏽 Keep going 🚀.", "Great job! Keep going."},
		{"emoji zwj sequence", "Family 👨‍👩‍👧 time", "Family time"},
		{"flag removed", "France 🇫🇷 wins", "France wins"},
		{"only emoji is empty", "👍", ""},
		{"only markdown is empty", "---\n```\n```", ""},
		{"arrows", "Tap A → B", "Tap A to B"},
		{"em dash is a pause", "It was—really—fine", "It was, really, fine"},
		{"trademark", "Hark™ rocks", "Hark rocks"},
		// Numbers, units, money, time, dates.
		{"units", "Drive 5 km at 60 km/h, then 1 km more.", "Drive 5 kilometers at 60 kilometers per hour, then 1 kilometer more."},
		{"units attached", "It weighs 5kg and costs 2.5GB of data", "It weighs 5 kilograms and costs 2.5 gigabytes of data"},
		{"one-letter unit needs a space", "In the 1990s, 5G and 3 h later", "In the 1990s, 5G and 3 hours later"},
		{"temperature", "It is 20°C or 68 °F, angle 90°.", "It is 20 degrees Celsius or 68 degrees Fahrenheit, angle 90 degrees."},
		{"dollars and cents", "It costs $5.99, or $1.", "It costs 5 dollars and 99 cents, or 1 dollar."},
		{"cents only", "Just $0.50 each", "Just 50 cents each"},
		{"currency scale", "Raised $1.5 million and €20bn", "Raised 1.5 million dollars and 20 billion euros"},
		{"pounds", "£1,200 total", "1200 pounds total"},
		{"clock time", "Meet at 07:05 or 15:30.", "Meet at 7 oh 5 or 15 30."},
		{"clock am pm", "At 3:00 pm and 9am and 10 p.m.", "At 3 p m and 9 a m and 10 p m"},
		{"o'clock", "At 3:00 sharp, not 18:00.", "At 3 o'clock sharp, not 18 hundred."},
		{"duration untouched", "Took 1:02:03 total", "Took 1:02:03 total"},
		{"iso date", "Due 2024-01-15.", "Due January 15th, 2024."},
		{"month abbreviation", "On Jan 5 and Sept 22", "On January 5th and September 22nd"},
		{"month with year", "Since March 3, 2021 and May 1, 2020", "Since March 3rd, 2021 and May 1st, 2020"},
		{"may alone is not a date", "You may 2 times", "You may 2 times"},
		{"slash date day first", "Born 25/12/2023", "Born December 25th, 2023"},
		{"range", "Wait 5-10 minutes, or 3–4 days.", "Wait 5 to 10 minutes, or 3 to 4 days."},
		{"range with unit", "Walk 2-3 km", "Walk 2 to 3 kilometers"},
		{"phone is not a range", "Call 555-1234", "Call 555-1234"},
		{"descending is not a range", "Score 10-3", "Score 10-3"},
		{"negative number kept", "It is -5 outside", "It is -5 outside"},
		{"fractions", "Add 3/4 cup and 1/2 spoon and 1 1/3 cups.", "Add three quarters cup and one half spoon and 1 and one third cups."},
		{"unicode fraction", "Use ½ cup", "Use one half cup"},
		{"24/7", "Open 24/7.", "Open twenty-four seven."},
		{"maths", "2 + 2 = 4 and 10 - 3 = 7, 3 * 4, 2^10", "2 plus 2 equals 4 and 10 minus 3 equals 7, 3 × 4, 2 to the power of 10"},
		{"comparisons", "x >= 5 and y != 2, 3 < 4", "x is at least 5 and y is not equal to 2, 3 is less than 4"},
		{"approximately", "About ~3 hours, ≈ 200 people", "About about 3 hours, approximately 200 people"},
		{"squared", "Area 5 m²", "Area 5 meters squared"},
		{"hash number", "Issue #42 is open", "Issue number 42 is open"},
		{"no dot number", "See No. 5", "See number 5"},
		{"languages", "Use C# or C++ or F#", "Use C sharp or C plus plus or F sharp"},
		// Abbreviations.
		{"versus", "Cats vs. dogs and red vs blue", "Cats versus dogs and red versus blue"},
		{"titles", "Ms. Lee and Prof. Chen met Bob Jr. at Acme Inc. today", "Miz Lee and Professor Chen met Bob Junior at Acme Incorporated today"},
		{"aka approx", "Bob, a.k.a. Rob, weighs approx. 80 kg", "Bob, also known as Rob, weighs approximately 80 kilograms"},
		{"with without", "Coffee w/ milk, tea w/o sugar", "Coffee with milk, tea without sugar"},
		{"slashes", "Answer yes/no over TCP/IP and/or UDP", "Answer yes or no over TCP IP and or UDP"},
		{"espeak's own abbreviations kept", "Dr. Smith, e.g. this, i.e. that, etc.", "Dr. Smith, e.g. this, i.e. that, etc."},
		// Whitespace and punctuation left over.
		{"spaces collapse", "Too    many\t spaces .", "Too many spaces."},
		{"empty parens after url", "Docs (https://x.org/) here", "Docs (x.org) here"},
		{"ellipsis", "Well... ok…", "Well... ok..."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Clean(tt.in); got != tt.want {
				t.Errorf("Clean(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCleanForOtherLanguages(t *testing.T) {
	tests := []struct {
		name, lang, in, want string
	}{
		{"markdown and emoji go in every language", "de", "## Hallo\n**Wie** geht's? 😀", "Hallo. Wie geht's?"},
		{"english rules do not apply", "de", "Es kostet $5 & 3 km", "Es kostet $5 & 3 km"},
		{"urls go in every language", "fr", "Voir https://exemple.fr/page", "Voir exemple.fr"},
		{"en-us reads dates month first", "en-us", "Born 12/05/2023", "Born December 5th, 2023"},
		{"en-gb reads dates day first", "en-gb", "Born 12/05/2023", "Born May 12th, 2023"},
		{"empty language is English", "", "5 km", "5 kilometers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CleanFor(tt.in, tt.lang); got != tt.want {
				t.Errorf("CleanFor(%q, %q)\n got %q\nwant %q", tt.in, tt.lang, got, tt.want)
			}
		})
	}
}
