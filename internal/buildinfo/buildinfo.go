// Package buildinfo reports what this binary is: Hark's version, the Go toolchain, the versions
// of the modules that carry the engines, and the cgo flags the native code was compiled with.
package buildinfo

import (
	"runtime/debug"
	"strings"
)

// version is set by the build (-ldflags -X hark/internal/buildinfo.version=...).
var version = "dev"

// Version is Hark's version.
func Version() string { return version }

// Info is what `hark version` prints beside the engine versions.
type Info struct {
	GoVersion string
	// Modules maps module paths of interest to their versions.
	Modules map[string]string
	// Settings holds the build settings that shape the native code (CGO_CFLAGS, ...) and
	// which program was built (-tags nowindow: the executable without the window).
	Settings map[string]string
}

// Read returns the build information embedded in the running binary.
func Read() Info {
	info := Info{Modules: map[string]string{}, Settings: map[string]string{}}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return info
	}
	info.GoVersion = bi.GoVersion
	for _, d := range bi.Deps {
		switch d.Path {
		case "github.com/ggerganov/whisper.cpp/bindings/go", "fyne.io/fyne/v2", "github.com/gen2brain/malgo":
			info.Modules[d.Path] = d.Version
		}
	}
	for _, s := range bi.Settings {
		if strings.HasPrefix(s.Key, "CGO_") || s.Key == "GOAMD64" || s.Key == "-tags" || s.Key == "vcs.revision" || s.Key == "vcs.modified" {
			info.Settings[s.Key] = s.Value
		}
	}
	return info
}
