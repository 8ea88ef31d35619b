package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fyneMakefile is the install Makefile of the bundle Fyne's packager (fyne.io/tools v1.7.4)
// makes, as far as scripts/bundle-systemd.sh reads it: the lines that install and remove the
// binary.
const fyneMakefile = `PREFIX ?= /usr/local
Exec := "hark"

install:
	install -Dm00755 usr/local/bin/$(Exec) $(DESTDIR)$(PREFIX)/bin/$(Exec)
uninstall:
	-rm $(DESTDIR)$(PREFIX)/bin/$(Exec)

user-install:
	install -Dm00755 usr/local/bin/$(Exec) $(DESTDIR)$(HOME)/.local/bin/$(Exec)

user-uninstall:
	-rm $(DESTDIR)$(HOME)/.local/bin/$(Exec)
`

// The release bundle carries the systemd units and the window's executable, and its Makefile
// installs them: the units where systemd looks for user units, pointing at the installed
// binary (systemd-analyze accepts them), hark-window beside hark.
func TestBundleHasSystemdUnits(t *testing.T) {
	dir := t.TempDir()
	bundle := filepath.Join(dir, "src", "hark")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	run := func(env []string, name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	must(os.MkdirAll(filepath.Join(bundle, "usr/local/bin"), 0o755))
	must(os.WriteFile(filepath.Join(bundle, "Makefile"), []byte(fyneMakefile), 0o644))
	must(os.WriteFile(filepath.Join(bundle, "usr/local/bin/hark"), []byte("#!/bin/sh\n"), 0o755))
	tarball := filepath.Join(dir, "Hark.tar.xz")
	run(nil, "sh", "-c", `tar -cf - -C "$1" hark | xz > "$2"`, "sh", filepath.Dir(bundle), tarball)

	window := filepath.Join(dir, "hark-window-built")
	must(os.WriteFile(window, []byte("#!/bin/sh\necho window\n"), 0o755))

	run(nil, "scripts/bundle-systemd.sh", tarball, window)
	list := run(nil, "tar", "-tJf", tarball)
	for _, want := range []string{"hark/usr/local/lib/systemd/user/hark-serve.service", "hark/usr/local/lib/systemd/user/hark-listen.service", "hark/usr/local/bin/hark", "hark/usr/local/bin/hark-window"} {
		if !strings.Contains(list, want+"\n") {
			t.Errorf("the bundle lacks %s:\n%s", want, list)
		}
	}
	out := filepath.Join(dir, "out")
	must(os.MkdirAll(out, 0o755))
	run(nil, "tar", "-xJf", tarball, "-C", out)
	src := filepath.Join(out, "hark")

	// sudo make install, into a staging root.
	root := filepath.Join(dir, "root")
	run(nil, "make", "-C", src, "install", "DESTDIR="+root, "PREFIX=/usr")
	installed := func(path string, want bool) {
		t.Helper()
		st, err := os.Stat(path)
		switch {
		case want && (err != nil || st.Mode()&0o111 == 0):
			t.Errorf("%s is not an installed executable: %v", path, err)
		case !want && err == nil:
			t.Errorf("%s is left after uninstalling", path)
		}
	}
	installed(filepath.Join(root, "usr/bin/hark-window"), true)
	for _, u := range []string{"hark-serve.service", "hark-listen.service"} {
		b, err := os.ReadFile(filepath.Join(root, "usr/lib/systemd/user", u))
		if err != nil || !strings.Contains(string(b), "ExecStart=/usr/bin/hark ") {
			t.Errorf("make install: %s: %v\n%s", u, err, b)
		}
	}
	// make user-install: the units point at ~/.local/bin/hark, and systemd takes them.
	home := filepath.Join(dir, "home")
	run([]string{"HOME=" + home}, "make", "-C", src, "user-install", "HOME="+home)
	installed(filepath.Join(home, ".local/bin/hark-window"), true)
	units := filepath.Join(home, ".config/systemd/user")
	for _, u := range []string{"hark-serve.service", "hark-listen.service"} {
		b, err := os.ReadFile(filepath.Join(units, u))
		if err != nil || !strings.Contains(string(b), "ExecStart=%h/.local/bin/hark ") {
			t.Errorf("make user-install: %s: %v\n%s", u, err, b)
		}
	}
	if _, err := exec.LookPath("systemd-analyze"); err == nil {
		rt := filepath.Join(dir, "run")
		must(os.MkdirAll(rt, 0o700))
		out := run([]string{"HOME=" + home, "XDG_RUNTIME_DIR=" + rt}, "systemd-analyze", "verify", "--user",
			filepath.Join(units, "hark-serve.service"), filepath.Join(units, "hark-listen.service"))
		if strings.TrimSpace(out) != "" {
			t.Errorf("systemd-analyze verify: %s", out)
		}
	} else {
		t.Log("systemd-analyze is not installed: the units' syntax is not checked")
	}
	run([]string{"HOME=" + home}, "make", "-C", src, "user-uninstall", "HOME="+home)
	if left, _ := filepath.Glob(filepath.Join(units, "*.service")); len(left) != 0 {
		t.Errorf("make user-uninstall left %v", left)
	}
	installed(filepath.Join(home, ".local/bin/hark-window"), false)
	run(nil, "make", "-C", src, "uninstall", "DESTDIR="+root, "PREFIX=/usr")
	if left, _ := filepath.Glob(filepath.Join(root, "usr/lib/systemd/user/*.service")); len(left) != 0 {
		t.Errorf("make uninstall left %v", left)
	}
	installed(filepath.Join(root, "usr/bin/hark-window"), false)
}
