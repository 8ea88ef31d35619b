#!/bin/sh
# bundle-systemd.sh TARBALL: adds packaging/systemd's user units to the Linux bundle Fyne's
# packager made (make package), and teaches the bundle's Makefile to install them:
#   sudo make install   → $(PREFIX)/lib/systemd/user/ (systemd looks in /usr/local/lib/systemd/user
#                          and /usr/lib/systemd/user), ExecStart pointing at $(PREFIX)/bin/hark
#   make user-install   → ~/.config/systemd/user/, ExecStart pointing at ~/.local/bin/hark
# Then: systemctl --user daemon-reload && systemctl --user enable --now hark-serve (or hark-listen).
# bundle-systemd.sh TARBALL WINDOW also adds the window's executable (make build's
# bin/hark-window: `hark` with no command runs it) beside the binary, installed and removed
# with it.
set -eu
tarball=$1
window=${2:-}
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
xz -dc "$tarball" | tar -xf - -C "$work"
set -- "$work"/*/
[ $# -eq 1 ] && [ -f "$1/Makefile" ] || { echo "bundle-systemd.sh: $tarball is not a Fyne Linux bundle (one folder with a Makefile)" >&2; exit 1; }
top=$(basename "$1")
dir=$work/$top
units=usr/local/lib/systemd/user
mkdir -p "$dir/$units"
for u in "$here"/packaging/systemd/*.service; do
	install -m 0644 "$u" "$dir/$units/"
done
# Each install target gains its units after the line that installs the binary; the unit
# files name /usr/local/bin/hark, rewritten to where the binary goes.
if [ -n "$window" ]; then
	install -m 0755 "$window" "$dir/usr/local/bin/hark-window"
fi
awk -v units="$units" -v window="$window" '
	{ print }
	window != "" && /install -Dm00755 usr\/local\/bin\/\$\(Exec\) / {
		line = $0; gsub(/\$\(Exec\)/, "$(Exec)-window", line); print line
	}
	window != "" && /-rm \$\(DESTDIR\)\$\((PREFIX|HOME)\)\/(.local\/)?bin\/\$\(Exec\)$/ {
		line = $0; gsub(/\$\(Exec\)/, "$(Exec)-window", line); print line
	}
	/^install:/ || /^uninstall:/ || /^user-install:/ || /^user-uninstall:/ { target = $0 }
	/install -Dm00755 usr\/local\/bin\/\$\(Exec\) \$\(DESTDIR\)\$\(PREFIX\)\/bin/ {
		printf "\tfor u in %s/*.service; do install -Dm00644 $$u $(DESTDIR)$(PREFIX)/lib/systemd/user/$${u##*/}; sed -i \"s,/usr/local/bin/hark,$(PREFIX)/bin/$(Exec),\" $(DESTDIR)$(PREFIX)/lib/systemd/user/$${u##*/}; done\n", units
	}
	/-rm \$\(DESTDIR\)\$\(PREFIX\)\/bin\/\$\(Exec\)/ {
		printf "\tfor u in %s/*.service; do rm -f $(DESTDIR)$(PREFIX)/lib/systemd/user/$${u##*/}; done\n", units
	}
	/install -Dm00755 usr\/local\/bin\/\$\(Exec\) \$\(DESTDIR\)\$\(HOME\)\/.local\/bin/ {
		printf "\tfor u in %s/*.service; do install -Dm00644 $$u $(DESTDIR)$(HOME)/.config/systemd/user/$${u##*/}; sed -i \"s,/usr/local/bin/hark,%%h/.local/bin/$(Exec),\" $(DESTDIR)$(HOME)/.config/systemd/user/$${u##*/}; done\n", units
	}
	/-rm \$\(DESTDIR\)\$\(HOME\)\/.local\/bin\/\$\(Exec\)/ {
		printf "\tfor u in %s/*.service; do rm -f $(DESTDIR)$(HOME)/.config/systemd/user/$${u##*/}; done\n", units
	}
' "$dir/Makefile" > "$work/Makefile.new"
n=$(grep -c 'systemd/user' "$work/Makefile.new" || true)
[ "$n" -eq 4 ] || { echo "bundle-systemd.sh: the bundle's Makefile is not the one expected ($n of 4 install lines found); units not added" >&2; exit 1; }
if [ -n "$window" ]; then
	n=$(grep -c 'Exec)-window' "$work/Makefile.new" || true)
	[ "$n" -eq 4 ] || { echo "bundle-systemd.sh: the bundle's Makefile is not the one expected ($n of 4 window lines added)" >&2; exit 1; }
fi
mv "$work/Makefile.new" "$dir/Makefile"
tar -cf - -C "$work" "$top" | xz -T1 -6 > "$tarball.new"
mv "$tarball.new" "$tarball"
echo "bundle-systemd.sh: added $(ls "$dir/$units" | tr '\n' ' ')${window:+and hark-window }to $tarball"
