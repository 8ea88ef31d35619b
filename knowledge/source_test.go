package knowledge

import "testing"

// TestHitSource: a source title separates document, headings and subheadings the same way.
func TestHitSource(t *testing.T) {
	for _, c := range []struct {
		hit  Hit
		want string
	}{
		{Hit{Doc: "faq.txt"}, "faq.txt"},
		{Hit{Doc: "guide.md", Heading: "Services"}, "guide.md › Services"},
		{Hit{Doc: "guide.md", Heading: "Guide > Services > Pharmacy", Page: 3}, "guide.md › Guide › Services › Pharmacy (p. 3)"},
	} {
		if got := c.hit.Source(); got != c.want {
			t.Errorf("Source() = %q, want %q", got, c.want)
		}
	}
}
