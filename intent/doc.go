// Package intent matches what a person said against sentence templates, so that common commands
// ("set a timer for five minutes") run at once, without a language model.
//
// Templates are data, in TOML files, one language per file, in a format modelled on Home
// Assistant's hassil:
//
//	language = "en"
//	[intents.timer_start]
//	sentences = ["set a [{name}] timer for {minutes} minute[s]", "(start|begin) a {minutes} minute timer"]
//	[lists.minutes]
//	range = { from = 1, to = 600 }
//	[lists.name]
//	wildcard = true
//
// (a|b) is a choice, [a] is optional, {slot} takes a value from the list of that name (a list
// of values with an optional spoken form, a number range, a wildcard, or a dynamic list whose
// values a [Resolver] gives at run time, such as the devices a connector knows), and {slot:list}
// names the slot differently from its list. Sentences are compared after light normalisation
// (case, punctuation, number words to digits). Spaces are never required between template
// parts, so languages written without them (Chinese, Japanese) match the same way.
//
// # Concurrency properties
//
// A [Set] is read-only once built, except for the resolvers of its dynamic lists
// ([Set.SetResolver]): Match and SetResolver may be called from any goroutine.
package intent
