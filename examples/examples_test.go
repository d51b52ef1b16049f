package examples_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"partners/internal/apitest"
	"partners/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// The walk-throughs as a newcomer runs them: the real binary started with
// the README's zero configuration (development mode), and each script
// against it, twice, so that the second round meets a database that already
// holds the first round's people and positions.
func TestScripts(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the examples need %s on the PATH (.ci/run installs jq with apt-get): %v", tool, err)
		}
	}
	scripts := scripts(t)
	// Read here so that go test's cache sees a change to any of them (it
	// only knows the files the test itself opens).
	for _, f := range append([]string{"lib.sh"}, scripts...) {
		if _, err := os.ReadFile(f); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(t.TempDir(), "partners")
	if out, err := exec.Command("go", "build", "-o", bin, "partners/cmd/partners").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	addr := freeAddr(t)
	srv := serve(t, bin, map[string]string{
		"PARTNERS_DATABASE_URL": pgtest.URL(t),
		"PARTNERS_HTTP_ADDR":    addr,
		"PARTNERS_METRICS_ADDR": "off",
		"PARTNERS_MAIL_DIR":     t.TempDir(),
	})
	env := withoutPartners(os.Environ())
	env = append(env, "PARTNERS_URL=http://"+addr, "PARTNERS_BIN="+bin)
	for round := 1; round <= 2; round++ {
		for _, script := range scripts {
			t.Run(fmt.Sprintf("%s/round%d", filepath.Base(script), round), func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				defer cancel()
				cmd := exec.CommandContext(ctx, "bash", script)
				// Anywhere but the repository: a script finds what it
				// needs from its own path.
				cmd.Dir = t.TempDir()
				cmd.Env = env
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("%s: %v\n%s\n-- the server's last lines:\n%s", filepath.Base(script), err, out, tail(srv.String(), 30))
				}
			})
		}
	}
}

// The README shows each script's commands as they are in the script: a
// block that starts with the line "# examples/NAME.sh" holds lines of that
// script, in its order, and lines of output (comments) between them.
func TestREADMEShowsTheScripts(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	shown := map[string]bool{}
	for _, b := range readmeBlocks(string(readme)) {
		name, ok := strings.CutPrefix(b[0], "# examples/")
		if !ok {
			continue
		}
		script, err := os.ReadFile(name)
		if err != nil {
			t.Errorf("README block for examples/%s: %v", name, err)
			continue
		}
		shown[name] = true
		lines := strings.Split(string(script), "\n")
		at := 0
		for _, l := range b[1:] {
			i := slices.Index(lines[at:], l)
			switch {
			case i >= 0:
				at += i + 1
			case strings.HasPrefix(l, "# ") || l == "#" || l == "":
				// output or a note
			default:
				t.Errorf("README block for examples/%s: %q is not a line of the script (after its line %d)", name, l, at)
			}
		}
	}
	for _, s := range scripts(t) {
		if !shown[filepath.Base(s)] {
			t.Errorf("the README shows no block of examples/%s", filepath.Base(s))
		}
	}
}

// scripts are the examples to run: every script but the library they source.
func scripts(t *testing.T) []string {
	t.Helper()
	all, err := filepath.Glob("*.sh")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range all {
		if s == "lib.sh" {
			continue
		}
		abs, err := filepath.Abs(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, abs)
	}
	if len(out) == 0 {
		t.Fatal("no scripts in examples/")
	}
	return out
}

// readmeBlocks are the README's indented code blocks, without their indent.
func readmeBlocks(md string) [][]string {
	var blocks [][]string
	var cur []string
	flush := func() {
		for len(cur) > 0 && cur[len(cur)-1] == "" {
			cur = cur[:len(cur)-1]
		}
		if len(cur) > 0 {
			blocks = append(blocks, cur)
		}
		cur = nil
	}
	sc := bufio.NewScanner(strings.NewReader(md))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "    "):
			cur = append(cur, l[4:])
		case l == "" && cur != nil:
			cur = append(cur, "")
		default:
			flush()
		}
	}
	flush()
	return blocks
}

// serve starts `partners serve` with exactly env as its PARTNERS_*
// variables and waits until it is ready; the test's end stops it.
func serve(t *testing.T, bin string, env map[string]string) *apitest.SafeBuffer {
	t.Helper()
	log := &apitest.SafeBuffer{}
	cmd := exec.Command(bin, "serve")
	cmd.Env = withoutPartners(os.Environ())
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = io.Discard, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
	client := http.Client{Timeout: 2 * time.Second}
	for deadline := time.Now().Add(30 * time.Second); ; {
		if resp, err := client.Get("http://" + env["PARTNERS_HTTP_ADDR"] + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return log
			}
		}
		select {
		case err := <-done:
			t.Fatalf("serve exited: %v\n%s", err, log.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve not ready after 30s\n%s", log.String())
		}
	}
}

// withoutPartners drops the caller's PARTNERS_* settings: the examples run
// against the README's configuration, not the developer's.
func withoutPartners(env []string) []string {
	return slices.DeleteFunc(slices.Clone(env), func(kv string) bool { return strings.HasPrefix(kv, "PARTNERS_") })
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
