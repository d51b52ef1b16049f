package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	partners "partners/client"
)

// service is a running partners service the harness drives.
type service struct {
	URL   string // http://127.0.0.1:port
	DBURL string // its database, for counting and lag ("" when unknown)
	PID   int    // for /proc RSS readings (0: unknown)
	// Env are the PARTNERS_* settings it was started with.
	Env map[string]string
	// LogPath is the child's log file ("" in-process).
	LogPath string
	stop    func() (maxRSSKB int64, err error)
}

// Stop ends the service; for a child process it also returns the peak
// resident set of its whole life (getrusage), in kB.
func (s *service) Stop() (int64, error) {
	if s == nil || s.stop == nil {
		return 0, nil
	}
	f := s.stop
	s.stop = nil
	return f()
}

// starter starts a service on a database with extra PARTNERS_* settings.
type starter func(ctx context.Context, dbURL string, env map[string]string) (*service, error)

// childStarter builds ./cmd/partners once and runs it as a child process:
// the preferred way, since its RSS is then the service's alone.
type childStarter struct {
	bin    string // built binary (or -service-bin)
	dir    string // scratch folder for logs and mail files
	secret string // PARTNERS_JWT_SECRET, "" for the development secret
	log    io.Writer

	once     sync.Once
	buildErr error
}

func (c *childStarter) build(ctx context.Context) error {
	c.once.Do(func() {
		if c.bin != "" {
			return
		}
		out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
		if err != nil {
			c.buildErr = fmt.Errorf("go env GOMOD: %w", err)
			return
		}
		root := filepath.Dir(strings.TrimSpace(string(out)))
		if _, err := os.Stat(filepath.Join(root, "cmd", "partners")); err != nil {
			c.buildErr = fmt.Errorf("run the harness from the partners module (no cmd/partners under %s)", root)
			return
		}
		bin := filepath.Join(c.dir, "partners")
		fmt.Fprintf(c.log, "building the service: go build -o %s ./cmd/partners\n", bin)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/partners")
		cmd.Dir = root
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			c.buildErr = fmt.Errorf("go build ./cmd/partners: %w\n%s", err, stderr.String())
			return
		}
		c.bin = bin
	})
	return c.buildErr
}

func (c *childStarter) start(ctx context.Context, dbURL string, extra map[string]string) (*service, error) {
	if err := c.build(ctx); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	// Development said explicitly: a -jwt-secret without PARTNERS_ENV is
	// refused. No metrics listener: the harness reads none, and replicas
	// started side by side would contend for its port.
	env := map[string]string{
		"PARTNERS_ENV":          "development",
		"PARTNERS_METRICS_ADDR": "off",
		"PARTNERS_DATABASE_URL": dbURL,
		"PARTNERS_HTTP_ADDR":    addr,
		"PARTNERS_PUBLIC_URL":   "http://" + addr,
		"PARTNERS_MAIL_DIR":     filepath.Join(c.dir, "mail"),
		"PARTNERS_RATE_LIMITS":  "off",
		"PARTNERS_LOG_LEVEL":    "warn",
	}
	if c.secret != "" {
		env["PARTNERS_JWT_SECRET"] = c.secret
	}
	for k, v := range extra {
		if v == "" {
			delete(env, k)
		} else {
			env[k] = v
		}
	}
	logPath := filepath.Join(c.dir, fmt.Sprintf("service-%d.log", port))
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	// Not tied to ctx: the harness stops it itself with SIGTERM so that a
	// cancelled run still shuts the service down cleanly.
	cmd := exec.Command(c.bin, "serve")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, err
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	svc := &service{URL: "http://" + addr, DBURL: dbURL, PID: cmd.Process.Pid, Env: env, LogPath: logPath}
	svc.stop = func() (int64, error) {
		defer logFile.Close()
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(25 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		var maxRSS int64
		if cmd.ProcessState != nil {
			if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
				maxRSS = ru.Maxrss
			}
		}
		var exit *exec.ExitError
		if errors.As(waitErr, &exit) && exit.ExitCode() == -1 {
			waitErr = nil // ended by our signal
		}
		return maxRSS, waitErr
	}
	if err := waitHealthy(ctx, svc.URL, exited, 90*time.Second); err != nil {
		_, _ = svc.Stop()
		return nil, fmt.Errorf("service did not start: %w\n%s", err, tail(logPath, 20))
	}
	return svc, nil
}

// waitHealthy polls /healthz until it answers 200.
func waitHealthy(ctx context.Context, base string, exited <-chan struct{}, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	api, err := partners.NewClient(base, partners.WithHTTPClient(&http.Client{Timeout: time.Second}))
	if err != nil {
		return err
	}
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("the process exited")
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		resp, err := api.GetHealthz(ctx)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("no healthy answer in time")
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// logged returns the last line of a service log holding what.
func logged(path, what string) string {
	if path == "" {
		return ""
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(string(b), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], what) {
			return lines[i]
		}
	}
	return ""
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// procMem reads a process's resident set (VmRSS) and its peak (VmHWM), in kB.
func procMem(pid int) (rss, hwm int64, err error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		for _, k := range []string{"VmRSS:", "VmHWM:"} {
			if strings.HasPrefix(line, k) {
				fields := strings.Fields(line[len(k):])
				if len(fields) > 0 {
					v, _ := strconv.ParseInt(fields[0], 10, 64)
					if k == "VmRSS:" {
						rss = v
					} else {
						hwm = v
					}
				}
			}
		}
	}
	return rss, hwm, sc.Err()
}

// resetPeak makes VmHWM start again from the current RSS (Linux 4.0+), so
// each phase reads its own peak; it fails harmlessly elsewhere.
func resetPeak(pid int) bool {
	return os.WriteFile("/proc/"+strconv.Itoa(pid)+"/clear_refs", []byte("5"), 0) == nil
}

// memWatch samples a process's RSS while a phase runs, and reads the
// kernel's exact peak at the end when the peak could be reset at the start.
type memWatch struct {
	pid       int
	exactPeak bool
	startRSS  int64
	mu        sync.Mutex
	maxRSS    int64
	sum, n    int64
	stop      chan struct{}
	done      chan struct{}
}

// Memory is a phase's memory figures, in MB.
type Memory struct {
	StartMB float64 `json:"start_mb"`
	PeakMB  float64 `json:"peak_mb"`
	MeanMB  float64 `json:"mean_mb"`
	EndMB   float64 `json:"end_mb"`
	// Exact is true when the peak is the kernel's high-water mark (reset at
	// the phase's start), false when it is the largest 100 ms sample.
	Exact bool `json:"exact_peak"`
}

func watchMemory(pid int) *memWatch {
	if pid <= 0 {
		return nil
	}
	m := &memWatch{pid: pid, stop: make(chan struct{}), done: make(chan struct{})}
	m.exactPeak = resetPeak(pid)
	m.startRSS, _, _ = procMem(pid)
	go func() {
		defer close(m.done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			if rss, _, err := procMem(pid); err == nil {
				m.mu.Lock()
				m.maxRSS = max(m.maxRSS, rss)
				m.sum += rss
				m.n++
				m.mu.Unlock()
			}
			select {
			case <-m.stop:
				return
			case <-t.C:
			}
		}
	}()
	return m
}

func (m *memWatch) Stop() *Memory {
	if m == nil {
		return nil
	}
	close(m.stop)
	<-m.done
	rss, hwm, _ := procMem(m.pid)
	m.mu.Lock()
	defer m.mu.Unlock()
	out := &Memory{StartMB: mb(m.startRSS), EndMB: mb(rss), PeakMB: mb(max(m.maxRSS, rss)), Exact: m.exactPeak}
	if m.exactPeak && hwm > 0 {
		out.PeakMB = mb(max(hwm, m.maxRSS))
	}
	if m.n > 0 {
		out.MeanMB = mb(m.sum / m.n)
	}
	return out
}

func mb(kb int64) float64 { return float64(kb*10/1024) / 10 }
