package app

import (
	"fmt"
	"unicode/utf8"
)

// MaxQuestionRunes is the longest typed question Hark takes, in characters: a few pages, far
// beyond what a person asks, and short enough that a pasted book cannot fill the language
// model's context, the history or the window.
const MaxQuestionRunes = 4000

// CheckQuestion refuses a typed question longer than MaxQuestionRunes with a message for the
// person who typed or pasted it.
func CheckQuestion(text string) error {
	if len(text) <= MaxQuestionRunes { // bytes ≥ characters: the common case costs nothing
		return nil
	}
	if n := utf8.RuneCountInString(text); n > MaxQuestionRunes {
		return &UserError{
			Msg:  fmt.Sprintf("This text is too long to ask (%d characters)", n),
			Hint: fmt.Sprintf("Hark takes questions of up to %d characters: ask about a shorter part.", MaxQuestionRunes),
		}
	}
	return nil
}
