//go:build reliability

package reliability_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	osuser "os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	partners "partners/client"
	"partners/notify/mail/mailtest"
)

// pgBin is where the PostgreSQL 15 server binaries are;
// PARTNERS_TEST_PG_BIN overrides it.
func pgBin() string {
	if b := os.Getenv("PARTNERS_TEST_PG_BIN"); b != "" {
		return b
	}
	return "/usr/lib/postgresql/15/bin"
}

// cluster is a private PostgreSQL cluster made with initdb for one test, on
// a port of its own, never the shared server. Run as root, its files belong
// to the postgres OS user, which runs initdb, pg_ctl and the server.
type cluster struct {
	dir, data  string
	port       int
	asPostgres bool
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	if _, err := os.Stat(filepath.Join(pgBin(), "initdb")); err != nil {
		t.Fatalf("PostgreSQL server binaries not found in %s (set PARTNERS_TEST_PG_BIN): %v", pgBin(), err)
	}
	// A short path: the Unix socket lives in it (at most 107 bytes).
	dir, err := os.MkdirTemp("", "prel-")
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{dir: dir, data: filepath.Join(dir, "data"), port: freePort(t), asPostgres: os.Geteuid() == 0}
	t.Cleanup(func() {
		_, _ = c.run("pg_ctl", "-D", c.data, "stop", "-m", "immediate", "-w", "-t", "30")
		_ = os.RemoveAll(dir)
	})
	if c.asPostgres {
		pg, err := osuser.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root needs the postgres OS user: %v", err)
		}
		uid, _ := strconv.Atoi(pg.Uid)
		gid, _ := strconv.Atoi(pg.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	if out, err := c.run("initdb", "-D", c.data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	t.Logf("private cluster: initdb in %s, port %d, dir %s", time.Since(start).Round(time.Millisecond), c.port, dir)
	return c
}

// run runs a PostgreSQL program, as the postgres user when the test is root.
func (c *cluster) run(prog string, args ...string) (string, error) {
	path := filepath.Join(pgBin(), prog)
	var cmd *exec.Cmd
	if c.asPostgres {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = c.dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Start starts the server and waits until it accepts connections.
func (c *cluster) Start(t testing.TB) time.Duration {
	t.Helper()
	start := time.Now()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1", c.port, c.dir)
	if out, err := c.run("pg_ctl", "-D", c.data, "-o", opts, "-l", filepath.Join(c.dir, "log"), "start", "-w", "-t", "60"); err != nil {
		t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, tail(filepath.Join(c.dir, "log"), 20))
	}
	return time.Since(start)
}

// Stop stops the server with the fast mode: sessions are ended, every
// transaction in flight is rolled back.
func (c *cluster) Stop(t testing.TB) time.Duration {
	t.Helper()
	start := time.Now()
	if out, err := c.run("pg_ctl", "-D", c.data, "stop", "-m", "fast", "-w", "-t", "60"); err != nil {
		t.Fatalf("pg_ctl stop: %v\n%s", err, out)
	}
	return time.Since(start)
}

// URL is the URL of a database on the cluster.
func (c *cluster) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

// Issue 8, point 2: PostgreSQL is stopped during load and started again.
// While it is down, commands answer 503 with a problem body (code
// unavailable) and /readyz fails; afterwards the service recovers by itself,
// nothing acknowledged is lost and the read models resume.
func TestDatabaseRestartUnderLoad(t *testing.T) {
	const downFor = 4 * time.Second
	c := newCluster(t)
	c.Start(t)
	dbURL := c.URL("partners_reliability")
	smtp := mailtest.NewServer(t)
	svc := newService(t, "partners", dbURL, smtp.URL)
	svc.Start(t) // creates and migrates the database
	t.Logf("ready in %s", svc.WaitReady(t, time.Minute).Round(time.Millisecond))

	d := newDriver(t, svc.URL)
	d.allowed["unavailable"] = true
	// A read waits for its read model, which cannot move while the
	// database is down.
	d.allowed["read projection_behind"] = true
	load, stopLoad := context.WithTimeout(context.Background(), 90*time.Second)
	loadDone := make(chan struct{})
	go func() { defer close(loadDone); d.Run(load, 6, 1<<30) }()
	t.Cleanup(func() { stopLoad(); <-loadDone })
	time.Sleep(3 * time.Second)

	// Down: probe a command and /readyz while the driver keeps pushing.
	stopTook := c.Stop(t)
	down := time.Now()
	probe := newUser(t, "Probe")
	seen := map[string]int{}
	probes := 0
	for time.Since(down) < downFor {
		probes++
		a := call(svc.URL, createOrg(probe.Token, "Pendant la panne", "client"))
		seen[fmt.Sprintf("command %d %s problem=%v", a.Status, a.code(), a.problem())]++
		if a.Status != http.StatusServiceUnavailable || !a.problem() || a.code() != "unavailable" {
			t.Errorf("a command while the database is down answered %s; want 503 application/problem+json with code unavailable", a)
		}
		if a.Header.Get("Retry-After") == "" && a.Err == nil {
			t.Errorf("a 503 while the database is down has no Retry-After")
		}
		r := call(svc.URL, getReadyz)
		seen[fmt.Sprintf("readyz %d %s", r.Status, r.code())]++
		if r.Status != http.StatusServiceUnavailable {
			t.Errorf("/readyz while the database is down answered %s; want 503", r)
		}
		h := call(svc.URL, getHealthz)
		seen[fmt.Sprintf("healthz %d", h.Status)]++
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("database stopped (pg_ctl stop -m fast took %s); %d probes while down: %v", stopTook.Round(time.Millisecond), probes, sortedCounts(seen))

	// Up again: the service must recover by itself.
	startTook := c.Start(t)
	up := time.Now()
	var firstCommand, ready time.Duration
	var pos int64
	var org string
	var last answer
	for (firstCommand == 0 || ready == 0) && time.Since(up) < time.Minute {
		if firstCommand == 0 {
			last = call(svc.URL, createOrg(probe.Token, "Après la panne", "client"))
			if last.ok() {
				firstCommand, pos, org = time.Since(up), last.Pos, last.field("id")
			}
		}
		if ready == 0 {
			if r := call(svc.URL, getReadyz); r.Status == http.StatusOK {
				ready = time.Since(up)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if firstCommand == 0 || ready == 0 {
		t.Fatalf("the service did not recover within a minute of the database's restart: last command %s; ready after %s", last, ready)
	}
	// The read models resumed: a read after the new command sees it.
	after := int(pos)
	r := call(svc.URL, func(ctx context.Context, c *partners.Client) (*http.Response, error) {
		return c.GetV1MeOrganizations(ctx, &partners.GetV1MeOrganizationsParams{MinPosition: &after}, partners.Bearer(probe.Token))
	})
	if !r.ok() || !strings.Contains(string(r.Body), org) {
		t.Errorf("read after recovery (min_position=%d) answered %s; want the new organization %s", pos, r, org)
	}
	t.Logf("database down %s (stop to start -w returned: %s); after it came back: first 2xx command in %s, /readyz 200 in %s",
		(time.Since(down) - time.Since(up) + startTook).Round(time.Millisecond), startTook.Round(time.Millisecond),
		firstCommand.Round(time.Millisecond), ready.Round(time.Millisecond))

	time.Sleep(3 * time.Second)
	stopLoad()
	<-loadDone
	t.Logf("driver: %s", d.Summary())
	d.Check(t)

	pool := openPool(t, dbURL)
	caught := waitCaughtUp(t, svc.URL, time.Minute)
	f := loadStore(t, pool)
	t.Logf("store: %d events %v; read models caught up %s after the load", f.Events, f.ByType, caught.Round(time.Millisecond))
	checkAcked(t, d.Acks(), f)

	verify(t, svc, pool)

	m := waitMail(t, pool, smtp, time.Minute)
	t.Logf("mail: %s", m)
	checkMail(t, m, 0)

	svc.Stop(t)
	if n, msgs := svc.LogLines("ERROR"); n > 0 {
		t.Logf("service logged %d error line(s), e.g. %q", n, msgs)
	}
}

func sortedCounts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "[%s]=%d ", k, m[k])
	}
	return strings.TrimSpace(b.String())
}
