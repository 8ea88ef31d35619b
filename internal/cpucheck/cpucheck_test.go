package cpucheck

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestRefusesCPUWithoutV3 runs this test binary again pretending the CPU lacks x86-64-v3: a
// v3 build must stop before any Go code runs, with exit status 3 and a message naming the
// portable build; a portable build must run normally.
func TestRefusesCPUWithoutV3(t *testing.T) {
	if os.Getenv("HARK_CPUCHECK_CHILD") != "" {
		os.Exit(0) // reached only when the constructor let the process start
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestRefusesCPUWithoutV3$")
	cmd.Env = append(os.Environ(), "HARK_CPUCHECK_CHILD=1", "HARK_CPU_PRETEND_BASELINE=1")
	out, err := cmd.CombinedOutput()
	code := cmd.ProcessState.ExitCode()
	switch CompiledISA() {
	case "x86-64-v3":
		if code != 3 || !strings.Contains(string(out), "make portable") || !strings.Contains(string(out), "avx2") {
			t.Fatalf("v3 build on a pretend baseline CPU: exit %d (%v), output %q; want exit 3 naming avx2 and make portable", code, err, out)
		}
	default:
		if code != 0 {
			t.Fatalf("%s build must run on any CPU, exit %d: %s", CompiledISA(), code, out)
		}
	}
}

func TestFeaturesMatchBuild(t *testing.T) {
	f := Features()
	if CompiledISA() == "x86-64-v3" {
		// This process is running, so the constructor accepted the CPU.
		for _, need := range []string{"avx", "avx2", "fma", "f16c", "bmi2"} {
			if !slices.Contains(f, need) {
				t.Errorf("running a v3 build, but Features() = %v lacks %s", f, need)
			}
		}
	}
	t.Logf("compiled for %s; CPU has %v", CompiledISA(), f)
}
