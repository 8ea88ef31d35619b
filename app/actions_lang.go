package app

// The assistant's own words around actions ("Okay, I won't.") in the language of the turn:
// English, or Chinese for a Chinese (or Cantonese) turn. The skills' replies come from the
// actor, which is told the turn's language through the context of Check and Run
// (WithLanguage); a timer's ring comes with its own words (Alert.Say).

// actionMsg is one thing the assistant says about an action.
type actionMsg int

const (
	msgCantDo        actionMsg = iota // no template matched and there is no language model
	msgCantDoLoading                  // … the language model is still loading
	msgCouldNot                       // the call was invalid: nothing ran
	msgWont                           // the person said no
	msgFailed                         // the action returned an error
	msgTooLong                        // the action was cut off by its timeout
	msgUnfinished                     // the model still called tools after MaxToolRounds
	msgDone                           // an alert without words of its own: "Your … is done."
)

var actionMsgs = map[actionMsg][2]string{
	msgCantDo:        {"I can't do that yet.", "这个我还做不到。"},
	msgCantDoLoading: {"I can't do that yet: the language model is still loading.", "这个我还做不到：语言模型还在加载。"},
	msgCouldNot:      {"Sorry, I couldn't do that.", "抱歉，这个我做不了。"},
	msgWont:          {"Okay, I won't.", "好的，不做了。"},
	msgFailed:        {"Sorry, that didn't work.", "抱歉，没有成功。"},
	msgTooLong:       {"Sorry, that took too long and was cut off.", "抱歉，用时太长，已经中止了。"},
	msgUnfinished:    {"Sorry, I couldn't finish that.", "抱歉，我没能完成。"},
	msgDone:          {"Your %s is done.", "%s时间到了。"},
}

// say returns msg in lang (a whisper language code; "" and languages without words of their
// own get English).
func (m actionMsg) say(lang string) string {
	return inLang(actionMsgs[m], lang)
}

// inLang picks the assistant's own words for lang from an {English, Chinese} pair: Chinese for
// a Chinese or Cantonese turn, English for every other language and for "".
func inLang(words [2]string, lang string) string {
	if lang == "zh" || lang == "yue" {
		return words[1]
	}
	return words[0]
}

// actionLang is the language an action turn is answered in: the language of the template that
// matched or of the question (heard or typed), else the configured one.
func (a *Assistant) actionLang(t *turn) string {
	if t != nil && t.lang != "" {
		return t.lang
	}
	if t != nil {
		if l := typedLanguage(t.transcript); l != "" {
			return l
		}
	}
	if l := a.cfg.Language; l != "auto" {
		return l
	}
	return ""
}
