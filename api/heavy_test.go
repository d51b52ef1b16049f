package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"partners/api"
	"partners/domain"
	"partners/internal/apitest"
	"partners/internal/pgtest"
	"partners/projections"
)

// fillAuditLog appends n events to org's audit log (portal users with long
// names: an export of it is far larger than the sockets' buffers).
func fillAuditLog(t *testing.T, s *apitest.Server, owner apitest.User, org string, n int) int64 {
	t.Helper()
	id := uuid.MustParse(org)
	email, err := domain.ParseEmail(owner.Email)
	if err != nil {
		t.Fatal(err)
	}
	actor := s.App.ActorFor(owner.Sub, email, true, owner.Name)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var last int64
	errs := make(chan error, n)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 4 {
				e, _ := domain.ParseEmail("p" + strconv.Itoa(i) + "@dupont.example")
				ch, err := s.App.CreatePortalUser(context.Background(), actor, id, e, strings.Repeat("n", 190)+strconv.Itoa(i), strings.Repeat("c", 190))
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				last = max(last, ch.Result.Position)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// The log shows only what every transaction in flight follows: let the
	// projector settle, so that every export shows all n.
	var names []string
	for _, p := range s.Projector.Projections() {
		names = append(names, p.Name())
	}
	if err := s.Projector.WaitApplied(context.Background(), names, last, time.Minute); err != nil {
		t.Fatal(err)
	}
	return last
}

// slowClient reads through a small receive buffer: once it stops reading,
// the server can write only a few KiB more.
func slowClient() *http.Client {
	d := &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
}

// heldExport is an audit export whose reader read its first bytes and
// stopped reading.
type heldExport struct {
	status int
	code   string
	resp   *http.Response
	reader *bufio.Reader
}

func startExport(t *testing.T, s *apitest.Server, u apitest.User, org string) heldExport {
	t.Helper()
	req, _ := http.NewRequest("GET", s.URL+"/v1/organizations/"+org+"/audit?format=jsonl", nil)
	req.Header.Set("Authorization", "Bearer "+u.Token)
	resp, err := slowClient().Do(req)
	if err != nil {
		t.Error(err)
		return heldExport{}
	}
	h := heldExport{status: resp.StatusCode, resp: resp, reader: bufio.NewReader(resp.Body)}
	if resp.StatusCode != http.StatusOK {
		var p struct{ Code string }
		_ = json.NewDecoder(resp.Body).Decode(&p)
		h.code = p.Code
		resp.Body.Close()
		return h
	}
	if _, err := h.reader.ReadString('\n'); err != nil { // the first line, then nothing
		t.Errorf("first line of the export: %v", err)
	}
	return h
}

// finish reads the rest of a held export and counts its lines; an export
// the server cut short is an error.
func (h heldExport) finish() (int, error) {
	defer h.resp.Body.Close()
	n := 1
	for {
		line, err := h.reader.ReadString('\n')
		if err == io.EOF && line == "" {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
	}
}

// One tenant cannot starve the others: twenty audit exports held open by
// readers that stopped reading take no connection another tenant's queries
// and commands need. Each export is either answered (and completes once its
// reader reads on: nothing was cut while the others were served) or refused
// at once; meanwhile another tenant's commands, read-your-writes queries
// and as-of answers are all answered.
func TestStalledExportsDoNotStarveOthers(t *testing.T) {
	s := apitest.Start(t, pgtest.Fresh2(t), apitest.Options{SlowNetwork: true, HeavyConns: 4,
		Limits: &api.Limits{Heavy: api.Concurrent{PerUser: 2, PerOrg: 2}}})
	mallory, bob := apitest.NewUser(t, "Mallory"), apitest.NewUser(t, "Bob")
	big, _ := s.CreateOrganization(t, mallory, "Big history", "client")
	fillAuditLog(t, s, mallory, big, 800)

	exports := make([]heldExport, 20)
	var wg sync.WaitGroup
	for i := range exports {
		wg.Add(1)
		go func() { defer wg.Done(); exports[i] = startExport(t, s, mallory, big) }()
	}
	wg.Wait()
	held := 0
	for _, e := range exports {
		switch {
		case e.status == http.StatusOK:
			held++
		case e.status == http.StatusTooManyRequests && e.code == "rate_limited":
		case e.status == http.StatusServiceUnavailable && e.code == "busy":
		default:
			t.Fatalf("an export answered %d %q; want 200, 429 rate_limited or 503 busy", e.status, e.code)
		}
	}
	if held == 0 {
		t.Fatal("no export is held open: the test proves nothing")
	}

	// Another tenant, meanwhile: commands, read-your-writes, as-of.
	org, pos := s.CreateOrganization(t, bob, "Other tenant", "subcontractor")
	for i := 0; i < 20; i++ {
		apitest.Expect(t, s.Get(t, bob, "/v1/organizations/"+org+"/members", pos), http.StatusOK)
		apitest.Expect(t, s.Get(t, bob, "/v1/me/organizations", pos), http.StatusOK)
	}
	apitest.Expect(t, s.Get(t, bob, "/v1/organizations/"+org+"/members?as_of="+nowRFC3339(), pos), http.StatusOK)
	apitest.Expect(t, s.Get(t, bob, "/v1/organizations/"+org+"/audit?format=jsonl", pos), http.StatusOK)

	// The held exports were not cut to serve the other tenant: each holds
	// the whole log.
	for _, e := range exports {
		if e.status != http.StatusOK {
			continue
		}
		if n, err := e.finish(); err != nil || n < 800 {
			t.Fatalf("a held export ended after %d lines (%v): it was cut, not served", n, err)
		}
	}
}

func nowRFC3339() string { return time.Now().UTC().Format(time.RFC3339Nano) }

// Long reads are bounded per user (429 at once beyond), and run on their
// own small pool whose connections are waited for a bounded time (503 busy
// with Retry-After when none frees up).
func TestLongReadsBounded(t *testing.T) {
	s := apitest.Start(t, pgtest.Fresh2(t), apitest.Options{SlowNetwork: true, HeavyConns: 2,
		Limits: &api.Limits{Heavy: api.Concurrent{PerUser: 1, PerOrg: 5}}})
	alice, bob := apitest.NewUser(t, "Alice"), apitest.NewUser(t, "Bob")
	big, _ := s.CreateOrganization(t, alice, "Big history", "client")
	fillAuditLog(t, s, alice, big, 800)
	small, pos := s.CreateOrganization(t, bob, "Small", "client")

	held := startExport(t, s, alice, big)
	if held.status != http.StatusOK {
		t.Fatalf("export answered %d", held.status)
	}
	// The same user's second long read: 429 at once.
	r := s.Do(t, apitest.Request{Method: "GET", Path: "/v1/organizations/" + big + "/audit?format=csv", Token: alice.Token})
	expectLimited(t, r, 60)
	r = s.Get(t, alice, "/v1/organizations/"+big+"/members?as_of="+nowRFC3339(), pos)
	expectLimited(t, r, 60)
	// Another user's: the one connection for long reads is taken.
	for _, path := range []string{"/v1/organizations/" + small + "/audit?format=jsonl", "/v1/organizations/" + small + "/members?as_of=" + nowRFC3339()} {
		r = s.Get(t, bob, path, pos)
		apitest.Expect(t, r, http.StatusServiceUnavailable, "busy")
		if r.Header.Get("Retry-After") == "" {
			t.Fatal("503 busy without Retry-After")
		}
	}
	// Queries that are not long reads are answered meanwhile.
	apitest.Expect(t, s.Get(t, bob, "/v1/organizations/"+small+"/members", pos), http.StatusOK)
	if n, err := held.finish(); err != nil || n < 800 {
		t.Fatalf("held export: %d lines, %v", n, err)
	}
	apitest.Expect(t, s.Get(t, bob, "/v1/organizations/"+small+"/audit?format=jsonl", pos), http.StatusOK)
}

// min_position waits are bounded per user: beyond, 429 at once; another
// user's wait is not held back.
func TestWaitsBoundedPerUser(t *testing.T) {
	s := apitest.Start(t, pgtest.Fresh2(t), apitest.Options{NoProjector: true, Limits: &api.Limits{Waits: api.Concurrent{PerUser: 1}}})
	if err := projections.EnsureCheckpoints(context.Background(), s.Pool, s.Projector.Projections()); err != nil {
		t.Fatal(err)
	}
	alice, bob := apitest.NewUser(t, "Alice"), apitest.NewUser(t, "Bob")
	_, pos := s.CreateOrganization(t, alice, "Never projected", "client")
	var wg sync.WaitGroup
	codes := make([]string, 4)
	for i, u := range []apitest.User{alice, alice, alice, bob} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var p struct{ Code string }
			_ = json.Unmarshal(s.Get(t, u, "/v1/me/organizations", pos).Body, &p)
			codes[i] = p.Code
		}()
	}
	wg.Wait()
	behind, limited := 0, 0
	for _, c := range codes[:3] {
		switch c {
		case "projection_behind":
			behind++
		case "rate_limited":
			limited++
		}
	}
	if behind != 1 || limited != 2 || codes[3] != "projection_behind" {
		t.Fatalf("codes = %v; want one of Alice's waits, two refused, and Bob's wait", codes)
	}
}
