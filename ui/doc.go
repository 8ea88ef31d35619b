// Package ui is Hark's Fyne front end: the window a person talks to. It shows what the
// assistant (package app) publishes and sends it what the person does; it never drives the
// engines itself.
//
// # Usage
//
// Package main builds the window with [New], giving it the [Controller] (an *app.Assistant)
// and the settings, and passes the returned [*UI] to the assistant as its event sink
// ([UI.Publish]). The window has three modes ([ModeDesktop], [ModeKiosk], [ModeCar]) that share
// one view-model and differ in layout, theme and what a person may do.
//
// # Concurrency properties
//
// [UI.Publish] may be called from any goroutine and never blocks: it queues the event and
// schedules one repaint on the Fyne goroutine (fyne.Do) at most every [RepaintEvery], so a fast
// token stream costs a handful of repaints per second, not one per token. Everything else in this
// package runs on the Fyne goroutine: widget callbacks only send commands to the [Controller],
// which returns at once. The package does not import fyne.io/fyne/v2/app, so its tests run
// headless with fyne.io/fyne/v2/test.
package ui
