package main

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"hark/internal/testenv"
	"hark/internal/testmodels"
)

// ownPulse is a PulseAudio server of one test's own, laid out like the test environment's
// (a virtual microphone vmic_in whose monitor is the default source, a virtual speaker), which
// the test may kill and start again without disturbing the tests running beside it.
type ownPulse struct {
	t         *testing.T
	dir       string
	keepalive *exec.Cmd
}

func startOwnPulse(t *testing.T) *ownPulse {
	t.Helper()
	root, err := os.MkdirTemp("", "hark-pa-") // short: a unix socket path has at most 107 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	p := &ownPulse{t: t, dir: root}
	for _, d := range []string{"run", "home"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	tmpl, err := os.ReadFile(filepath.Join("scripts", "testenv", "default.pa.in"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "default.pa"), []byte(strings.ReplaceAll(string(tmpl), "@RUN@", filepath.Join(root, "run"))), 0o600); err != nil {
		t.Fatal(err)
	}
	p.start()
	t.Cleanup(p.kill)
	return p
}

// env points a client at this server.
func (p *ownPulse) env() []string {
	return []string{"PULSE_SERVER=unix:" + filepath.Join(p.dir, "run", "native"), "PULSE_RUNTIME_PATH=" + filepath.Join(p.dir, "run"),
		"XDG_RUNTIME_DIR=" + filepath.Join(p.dir, "run")}
}

func (p *ownPulse) cmd(name string, args ...string) *exec.Cmd {
	c := exec.Command(name, args...)
	c.Env = append(append(os.Environ(), "HOME="+filepath.Join(p.dir, "home")), p.env()...)
	return c
}

// start starts the server (again) and the silent stream that keeps the microphone's monitor
// delivering audio in small blocks.
func (p *ownPulse) start() {
	p.t.Helper()
	c := p.cmd("pulseaudio", "--daemonize=yes", "--system=false", "--exit-idle-time=-1", "--disallow-exit=yes", "-n",
		"-F", filepath.Join(p.dir, "default.pa"), "--use-pid-file=yes", "--log-target=file:"+filepath.Join(p.dir, "pa.log"), "--log-level=notice")
	if out, err := c.CombinedOutput(); err != nil {
		p.t.Fatalf("pulseaudio: %v\n%s", err, out)
	}
	for i := 0; i < 100; i++ {
		if p.cmd("pactl", "info").Run() == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.keepalive = p.silence("vmic_in")
}

// silence plays silence into sink in small blocks (a null sink that nothing plays into renders
// in 2-second blocks, and its monitor delivers audio that late); kill the command to stop it.
func (p *ownPulse) silence(sink string) *exec.Cmd {
	p.t.Helper()
	c := p.cmd("pacat", "--playback", "-d", sink, "--latency-msec=20", "--raw", "--format=s16le", "--rate=16000", "--channels=1", "/dev/zero")
	if err := c.Start(); err != nil {
		p.t.Fatal(err)
	}
	return c
}

// kill ends the server the way a crash does (SIGKILL), and its keep-alive stream.
func (p *ownPulse) kill() {
	if b, err := os.ReadFile(filepath.Join(p.dir, "run", "pid")); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			for i := 0; i < 50 && syscall.Kill(pid, 0) == nil; i++ {
				time.Sleep(50 * time.Millisecond)
			}
		}
		_ = os.Remove(filepath.Join(p.dir, "run", "pid"))
	}
	if p.keepalive != nil && p.keepalive.Process != nil {
		_ = p.keepalive.Process.Kill()
		_ = p.keepalive.Wait()
		p.keepalive = nil
	}
}

// say plays wav into this server's virtual microphone.
func (p *ownPulse) say(wav string) {
	p.t.Helper()
	if out, err := p.cmd("paplay", "-d", "vmic_in", wav).CombinedOutput(); err != nil {
		p.t.Fatalf("paplay: %v\n%s", err, out)
	}
}

// cpuSeconds is the CPU time pid has used (user + system), from /proc.
func cpuSeconds(t *testing.T, pid int) float64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command name in parentheses: state is the 3rd field, utime the 14th.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ
}

// TestE2ESoundServerRestart: PulseAudio is killed in the middle of a reply and started again a
// few seconds later. hark listen says once that the microphone stopped, does not spin while it
// is gone, reopens it by itself once the server is back, and hears the next question.
func TestE2ESoundServerRestart(t *testing.T) {
	testenv.Require(t)
	pa := startOwnPulse(t)
	wav := spokenQuestion(t)
	// Speech on: the server dies while the reply is being spoken, taking the speaker with it.
	r := startListen(t, "e2e-sound-restart", append(pa.env(), "HARK_SPEECH_ENABLED=true"),
		append([]string{"--turns", "2"}, voiceModels(t, testmodels.Shared(t, "stories260K.gguf"))...)...)
	defer func() {
		if b, err := os.ReadFile(filepath.Join(pa.dir, "pa.log")); err == nil {
			_ = os.WriteFile(filepath.Join(r.dir, "pa.log"), b, 0o644)
		}
	}()
	i := r.waitEvent("listening", 0, 90*time.Second, isState("listening"))
	pa.say(wav)
	i = r.waitEvent("the reply spoken", i, 90*time.Second, isState("speaking"))
	killed := time.Now()
	pa.kill()
	// The turn may end (its speaker gone) before or after the microphone is reported lost.
	lost := r.waitEvent("the microphone reported lost", i, 10*time.Second, isMic("failed"))
	t.Logf("microphone reported lost %v after the server was killed", time.Since(killed).Round(time.Millisecond))
	i = max(lost, r.waitEvent("the end of the interrupted turn", i, 60*time.Second, isKind("turn_done")))
	// While the server is gone: measure what Hark costs (a busy loop would take a whole core).
	c0, w0 := cpuSeconds(t, r.cmd.Process.Pid), time.Now()
	time.Sleep(6 * time.Second)
	idle := (cpuSeconds(t, r.cmd.Process.Pid) - c0) / time.Since(w0).Seconds()
	t.Logf("CPU while the sound server is gone: %.1f%% of one core (load average %s)", 100*idle, loadAverage())
	if idle > 0.5 {
		t.Errorf("hark listen used %.0f%% of a core while the sound server was gone: a busy loop", 100*idle)
	}
	back := time.Now()
	pa.start()
	i = r.waitEvent("the microphone reopened", i, 20*time.Second, isMic("ready"))
	t.Logf("microphone reopened %v after the server came back", time.Since(back).Round(time.Millisecond))
	if n := r.count(isMic("failed")); n != 1 {
		t.Errorf("the microphone was reported lost %d times, want once", n)
	}
	i = r.waitEvent("listening again", i, 30*time.Second, isState("listening"))
	// The reply after the restart must be heard: record the virtual speaker of the new server.
	rec := pa.cmd("parec", "-d", "vspeaker.monitor", "--raw", "--format=s16le", "--rate=16000", "--channels=1", "--latency-msec=20")
	var heard syncBuffer
	rec.Stdout = &heard
	if err := rec.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rec.Process.Kill(); _ = rec.Wait() }()
	pa.say(wav)
	i = r.waitEvent("a transcript after the restart", i, 90*time.Second, isKind("transcript"))
	r.waitEvent("the second reply spoken", i, 90*time.Second, isState("speaking"))
	time.Sleep(2 * time.Second)
	if peak := peakDBFS([]byte(heard.String())); peak < -30 {
		t.Errorf("after the sound server came back the reply was not heard on the speaker (peak %.1f dBFS)", peak)
	}
	r.exit(120 * time.Second)
}

func loadAverage() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// peakDBFS is the peak level of 16-bit little-endian PCM, in dB full scale.
func peakDBFS(b []byte) float64 {
	peak := 0
	for i := 0; i+1 < len(b); i += 2 {
		v := int(int16(uint16(b[i]) | uint16(b[i+1])<<8))
		if v < 0 {
			v = -v
		}
		peak = max(peak, v)
	}
	if peak == 0 {
		return -120
	}
	return 20 * math.Log10(float64(peak)/32768)
}

// TestE2EMicrophoneUnplugged: the microphone's source disappears (the module that provides it
// is unloaded, as when a USB microphone is pulled) and comes back. Hark says once that it is
// gone, and hears the next question once it is back.
func TestE2EMicrophoneUnplugged(t *testing.T) {
	testenv.Require(t)
	pa := startOwnPulse(t)
	wav := spokenQuestion(t)
	r := startListen(t, "e2e-mic-unplugged", append(pa.env(), "HARK_AUDIO_INPUT_DEVICE=Monitor of VirtualMicIn"),
		append([]string{"--turns", "1"}, voiceModels(t, testmodels.Shared(t, "stories260K.gguf"))...)...)
	i := r.waitEvent("listening", 0, 90*time.Second, isState("listening"))
	out := pa.pactl("list", "short", "modules")
	var module string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "sink_name=vmic_in") {
			module = strings.Fields(l)[0]
		}
	}
	if module == "" {
		t.Fatalf("no vmic_in module in:\n%s", out)
	}
	pa.pactl("unload-module", module)
	unplugged := time.Now()
	i = r.waitEvent("the microphone reported gone", i, 15*time.Second, isMic("failed"))
	t.Logf("microphone reported gone %v after it was unplugged", time.Since(unplugged).Round(time.Millisecond))
	time.Sleep(3 * time.Second)
	pa.pactl("load-module", "module-null-sink", "sink_name=vmic_in", "rate=16000", "channels=1", "sink_properties=device.description=VirtualMicIn")
	_ = pa.keepalive.Process.Kill()
	_ = pa.keepalive.Wait()
	pa.keepalive = pa.silence("vmic_in")
	plugged := time.Now()
	i = r.waitEvent("the microphone back", i, 20*time.Second, isMic("ready"))
	t.Logf("microphone reopened %v after it was plugged in again", time.Since(plugged).Round(time.Millisecond))
	i = r.waitEvent("listening again", i, 30*time.Second, isState("listening"))
	pa.say(wav)
	r.waitEvent("a transcript after the replug", i, 90*time.Second, isKind("transcript"))
	r.exit(120 * time.Second)
	if n := r.count(isMic("failed")); n != 1 {
		t.Errorf("the microphone was reported gone %d times, want once", n)
	}
}

// pactl runs pactl against this server; a failure fails the test.
func (p *ownPulse) pactl(args ...string) string {
	p.t.Helper()
	out, err := p.cmd("pactl", args...).CombinedOutput()
	if err != nil {
		p.t.Fatalf("pactl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// record records what is played on sink (from its monitor) until the test ends.
func (p *ownPulse) record(sink string) *syncBuffer {
	p.t.Helper()
	rec := p.cmd("parec", "-d", sink+".monitor", "--raw", "--format=s16le", "--rate=16000", "--channels=1", "--latency-msec=20")
	heard := &syncBuffer{}
	rec.Stdout = heard
	if err := rec.Start(); err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(func() { _ = rec.Process.Kill(); _ = rec.Wait() })
	return heard
}

// TestE2EDefaultDeviceChanged: while hark listen runs on the default devices, a headset
// appears (a second microphone and a second speaker) and is made the default, as a person does
// in the desktop's sound settings. Hark follows without a restart: it reopens the microphone on
// the new default and says so once (one "device" event, one line on stderr, and aloud: speech
// output is on, as in a car: one "notice" event, heard on the headset's speaker), a question
// said into the old microphone is no longer heard, the same question said into the headset
// is, and the reply is played on the headset, not on the old speaker.
func TestE2EDefaultDeviceChanged(t *testing.T) {
	testenv.Require(t)
	pa := startOwnPulse(t)
	wav := spokenQuestion(t)
	r := startListen(t, "e2e-default-device", append(pa.env(), "HARK_SPEECH_ENABLED=true"),
		append([]string{"--turns", "1"}, voiceModels(t, testmodels.Shared(t, "stories260K.gguf"))...)...)
	i := r.waitEvent("listening", 0, 90*time.Second, isState("listening"))
	pa.pactl("load-module", "module-null-sink", "sink_name=headset_mic", "rate=16000", "channels=1", "sink_properties=device.description=HeadsetMic")
	pa.pactl("load-module", "module-null-sink", "sink_name=headset", "rate=16000", "channels=1", "sink_properties=device.description=Headset")
	keep := pa.silence("headset_mic")
	defer func() { _ = keep.Process.Kill(); _ = keep.Wait() }()
	oldSpeaker, headset := pa.record("vspeaker"), pa.record("headset")
	switched := time.Now()
	pa.pactl("set-default-source", "headset_mic.monitor")
	pa.pactl("set-default-sink", "headset")
	// Said once, then the microphone is reopened on the headset (waited for, not timed: the
	// figures, from the events' own times, are logged). Nothing else happens meanwhile, so
	// these come in this order.
	i = r.waitEvent("the new default microphone announced", i, 30*time.Second, isKind("device"))
	announced := r.events()[i-1]
	if announced.str("component") != "microphone" || !strings.Contains(announced.str("text"), "HeadsetMic") {
		t.Errorf("the announcement names the wrong device: %v", announced)
	}
	i = r.waitEvent("the microphone reopened", i, 30*time.Second, isMic("ready"))
	since := func(e event) time.Duration { return e.at(t).Sub(switched).Round(time.Millisecond) }
	t.Logf("new default microphone announced %v and reopened %v after `pactl set-default-source` began (load average %s)",
		since(announced), since(r.events()[i-1]), loadAverage())
	i = r.waitEvent("listening on the headset", i, 30*time.Second, isState("listening"))
	// Said aloud once it is quiet (now): the notice event comes when it has been played, and
	// the sound reaches the headset's recording soon after (waited for).
	i = r.waitEvent("the notice said", i, 60*time.Second, isKind("notice"))
	if e := r.events()[i-1]; !strings.Contains(e.str("text"), "HeadsetMic") || e.str("error") != "" || e.flag("interrupted") {
		t.Errorf("the notice said: %v", e)
	}
	noticeHeard := false
	for end := time.Now().Add(10 * time.Second); !noticeHeard && time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		noticeHeard = peakDBFS([]byte(headset.String())) > -30
	}
	if !noticeHeard {
		t.Errorf("the notice was not heard on the new default speaker (peak %.1f dBFS)", peakDBFS([]byte(headset.String())))
	}
	heardBefore := len(headset.String()) &^ 1 // the reply is looked for after the notice

	pa.say(wav) // into the old microphone
	time.Sleep(2 * time.Second)
	if n := r.count(isKind("speech")); n != 0 {
		t.Fatalf("after the switch the old microphone was still heard (%d speech events)", n)
	}
	play := pa.cmd("paplay", "-d", "headset_mic", wav)
	said := time.Now()
	if err := play.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = play.Wait() }()
	i = r.waitEvent("speech from the headset", i, 20*time.Second, isKind("speech"))
	t.Logf("speech on the headset's microphone detected %v after the question began (the switch was %v before; load average %s)",
		time.Since(said).Round(time.Millisecond), said.Sub(switched).Round(time.Millisecond), loadAverage())
	i = r.waitEvent("a transcript", i, 90*time.Second, isKind("transcript"))
	r.waitEvent("the reply spoken", i, 90*time.Second, isState("speaking"))
	time.Sleep(2 * time.Second)
	if peak := peakDBFS([]byte(headset.String()[heardBefore:])); peak < -30 {
		t.Errorf("the reply was not heard on the new default speaker (peak %.1f dBFS)", peak)
	}
	if peak := peakDBFS([]byte(oldSpeaker.String())); peak > -60 {
		t.Errorf("the reply was played on the old speaker (peak %.1f dBFS)", peak)
	}
	r.exit(120 * time.Second)
	if n := r.count(isMic("failed")); n != 0 {
		t.Errorf("the microphone was reported lost %d times; a change of default loses nothing", n)
	}
	if n := r.count(isKind("device")); n != 1 {
		t.Errorf("the change of default was announced %d times, want once", n)
	}
	if n := r.count(isKind("notice")); n != 1 {
		t.Errorf("the change of default was said aloud %d times, want once", n)
	}
	if n := strings.Count(r.stderr.String(), "default microphone changed"); n != 1 {
		t.Errorf("the change of default was said %d times on stderr, want once:\n%s", n, r.stderr.String())
	}
}
