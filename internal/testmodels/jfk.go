package testmodels

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

const bindingsModule = "github.com/ggerganov/whisper.cpp/bindings/go"

// bindingsFile locates a file inside the whisper.cpp Go bindings module in the module cache.
func bindingsFile(rel string) (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", bindingsModule)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("testmodels: locate %s (run 'go mod download'): %w", bindingsModule, err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), rel), nil
}
