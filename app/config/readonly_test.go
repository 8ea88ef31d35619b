package config

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestSaveReadOnly saves into a configuration folder on a read-only file system (a locked-down
// kiosk image): the error says the settings cannot be saved, and the file is left as it was.
// Mounting needs root (CI runs as root); permission bits alone do not stop root.
func TestSaveReadOnly(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	orig := "[assistant]\nwake_phrase = \"hey hark\"\n"
	if err := os.WriteFile(path, []byte(orig), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount(dir, dir, "", syscall.MS_BIND, ""); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("bind mount (CI runs as root): %v", err)
		}
		t.Skipf("mounting needs root: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
	if err := syscall.Mount(dir, dir, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		t.Fatalf("remount read-only: %v", err)
	}
	c := Default()
	c.Assistant.WakePhrase = "hey jarvis"
	err := Save(path, c, "assistant.wake_phrase")
	var ro *ReadOnlyError
	if !errors.As(err, &ro) || ro.Path != path {
		t.Fatalf("Save on a read-only folder: %v, want a ReadOnlyError for %s", err, path)
	}
	if want := "the configuration file " + path + " cannot be written (read-only file system)"; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
	if got, _ := os.ReadFile(path); string(got) != orig {
		t.Fatalf("the file changed: %q", got)
	}
	if err := Set(path, "assistant.wake_phrase", "hey jarvis"); !errors.As(err, &ro) {
		t.Fatalf("Set on a read-only folder: %v, want a ReadOnlyError", err)
	}
}
