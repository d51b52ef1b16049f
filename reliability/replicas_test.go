//go:build reliability

package reliability_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	partners "partners/client"
	"partners/internal/pgtest"
	"partners/notify/mail/mailtest"
	"partners/projections"
)

// Issue 8, point 3: two replicas on one database and one SMTP server, under
// load spread over both. Answers stay correct (a read through one replica
// sees a write acknowledged by the other), uniqueness rules hold across
// replicas (the same command raced through both succeeds once), each read
// model holds each event's effect once, and each email goes out once.
func TestTwoReplicas(t *testing.T) {
	const races = 25
	ctx := context.Background()
	dbURL, drop, err := pgtest.Create(ctx, "reliability_replicas")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(drop)
	pool := openPool(t, dbURL)
	smtp := mailtest.NewServer(t)
	a := newService(t, "replica-a", dbURL, smtp.URL)
	b := newService(t, "replica-b", dbURL, smtp.URL)
	a.Start(t)
	b.Start(t)
	t.Logf("replicas ready in %s and %s", a.WaitReady(t, time.Minute).Round(time.Millisecond), b.WaitReady(t, time.Minute).Round(time.Millisecond))
	// Each replica serves its metrics on its own listener, none on the API.
	for _, s := range []*service{a, b} {
		for u, want := range map[string]int{s.MetricsURL: http.StatusOK, s.URL + "/metrics": http.StatusNotFound} {
			resp, err := http.Get(u)
			if err != nil {
				t.Fatalf("GET %s: %v", u, err)
			}
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Fatalf("GET %s: %d; want %d", u, resp.StatusCode, want)
			}
		}
	}

	d := newDriver(t, a.URL, b.URL)
	load, stopLoad := context.WithTimeout(ctx, 90*time.Second)
	loadDone := make(chan struct{})
	go func() { defer close(loadDone); d.Run(load, 6, 1<<30) }()
	t.Cleanup(func() { stopLoad(); <-loadDone })

	// The races run beside the load, each command sent at once through
	// both replicas.
	start := time.Now()
	r := &racer{t: t, a: a.URL, b: b.URL, outcomes: map[string]int{}}
	for i := 0; i < races; i++ {
		r.accept(i)
		r.invite(i)
		r.claim(i)
		r.siret(i)
	}
	if rest := 8*time.Second - time.Since(start); rest > 0 {
		time.Sleep(rest)
	}
	stopLoad()
	<-loadDone
	t.Logf("load and %d races of each kind ran %s", races, time.Since(start).Round(time.Millisecond))
	t.Logf("driver: %s", d.Summary())
	t.Logf("races: %s", sortedCounts(r.outcomes))
	d.Check(t)
	for _, f := range r.failures {
		t.Error(f)
	}

	caughtA := waitCaughtUp(t, a.URL, time.Minute)
	caughtB := waitCaughtUp(t, b.URL, time.Minute)
	f := loadStore(t, pool)
	t.Logf("store: %d events %v; read models caught up %s (seen from a) and %s (from b) after the load", f.Events, f.ByType,
		caughtA.Round(time.Millisecond), caughtB.Round(time.Millisecond))
	checkAcked(t, append(d.Acks(), r.acks...), f)
	r.checkStore(f)
	checkReadModels(t, pool, f)
	verify(t, a, pool)

	m := waitMail(t, pool, smtp, time.Minute)
	t.Logf("mail: %s", m)
	checkMail(t, m, 0)

	a.Stop(t)
	b.Stop(t)
	for _, s := range []*service{a, b} {
		if n, msgs := s.LogLines("ERROR"); n > 0 {
			t.Logf("%s logged %d error line(s), e.g. %q", s.name, n, msgs)
		}
	}
}

// racer sends the same command through both replicas at the same instant
// and checks that exactly one succeeds.
type racer struct {
	t        *testing.T
	a, b     string
	mu       sync.Mutex
	outcomes map[string]int
	failures []string
	acks     []ack
	// invitations accepted and organizations invited in a race, for the
	// store checks.
	accepted, invitedOrgs, claimed []string
}

func (r *racer) fail(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.failures) < 40 {
		r.failures = append(r.failures, fmt.Sprintf(format, args...))
	}
}

// must runs a setup command and fails the test unless it succeeds.
func (r *racer) must(base, what string, req send) answer {
	r.t.Helper()
	a := call(base, req)
	if !a.ok() {
		r.t.Fatalf("setup %s: %s", what, a)
	}
	return a
}

// both sends the two requests at once, one through each replica (which
// one goes first is random), and returns the answers in replica order.
func (r *racer) both(reqs [2]send) [2]answer {
	var out [2]answer
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i, base := range []string{r.a, r.b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			out[i] = call(base, reqs[i])
		}()
	}
	if rand.IntN(2) == 0 {
		time.Sleep(time.Microsecond)
	}
	close(gate)
	wg.Wait()
	return out
}

// oneWinner records the race and checks that exactly one answer is want
// and the other a 409 with one of the codes; it returns the winner.
func (r *racer) oneWinner(kind string, want int, as [2]answer, codes ...string) (answer, bool) {
	r.mu.Lock()
	for i, a := range as {
		o := fmt.Sprintf("%s via %c: %d", kind, "ab"[i], a.Status)
		if a.Err != nil {
			o = fmt.Sprintf("%s via %c: no answer", kind, "ab"[i])
		} else if !a.ok() {
			o += " " + a.code()
		}
		r.outcomes[o]++
	}
	r.mu.Unlock()
	wins, losers := 0, 0
	var w answer
	for _, a := range as {
		switch {
		case a.Err == nil && a.Status == want:
			wins++
			w = a
		case a.Err == nil && a.Status == 409 && a.problem() && contains(codes, a.code()):
			losers++
		}
	}
	if wins != 1 || losers != 1 {
		r.fail("%s raced through both replicas: %s | %s; want one %d and one 409 %v", kind, as[0], as[1], want, codes)
		return w, wins == 1
	}
	return w, true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (r *racer) pair(i int) (user, string, user, string) {
	client, sub := newUser(r.t, "RaceClient"), newUser(r.t, "RaceSub")
	co := r.must(r.a, "create the client", createOrg(client.Token, fmt.Sprintf("Race client %d", i), "client"))
	so := r.must(r.b, "create the subcontractor", createOrg(sub.Token, fmt.Sprintf("Race sub %d", i), "subcontractor"))
	r.acks = append(r.acks, ack{"org", co.field("id"), co.Pos}, ack{"org", so.field("id"), so.Pos})
	return client, co.field("id"), sub, so.field("id")
}

// accept: the same invitation accepted through both replicas at once.
func (r *racer) accept(i int) {
	client, clientOrg, sub, subOrg := r.pair(i)
	inv := r.must(r.a, "invite", invite(client.Token, clientOrg, partners.PostV1OrganizationsOrgInvitationsJSONRequestBody{Email: sub.Email}))
	invID := inv.field("id")
	r.acks = append(r.acks, ack{"invite", invID, inv.Pos})
	accept := acceptInvitation(sub.Token, invID, subOrg)
	as := r.both([2]send{accept, accept})
	if w, ok := r.oneWinner("accept", 200, as, "invitation_answered", "already_partners"); ok {
		r.acks = append(r.acks, ack{"accept", invID, w.Pos})
		r.accepted = append(r.accepted, invID)
	}
}

// invite: two invitations to the same email from the same organization,
// one through each replica: one pending invitation per (org, email).
func (r *racer) invite(i int) {
	client, clientOrg, _, _ := r.pair(i)
	email := fmt.Sprintf("same.%d.%s@example.org", i, client.Sub)
	viaA, viaB := "via a", "via b"
	as := r.both([2]send{
		invite(client.Token, clientOrg, partners.PostV1OrganizationsOrgInvitationsJSONRequestBody{Email: email, Message: &viaA}),
		invite(client.Token, clientOrg, partners.PostV1OrganizationsOrgInvitationsJSONRequestBody{Email: email, Message: &viaB}),
	})
	w, ok := r.oneWinner("invite", 201, as, "duplicate_pending_invitation")
	if !ok {
		return
	}
	r.acks = append(r.acks, ack{"invite", w.field("id"), w.Pos})
	r.invitedOrgs = append(r.invitedOrgs, clientOrg)
	for _, a := range as {
		if a.Status != 409 {
			continue
		}
		var p struct {
			Details struct {
				Pending string `json:"pending_invitation_id"`
			}
		}
		_ = json.Unmarshal(a.Body, &p)
		if p.Details.Pending != w.field("id") {
			r.fail("duplicate_pending_invitation names %q; the invitation that won is %s", p.Details.Pending, w.field("id"))
		}
	}
}

// claim: one invitation's token claimed by two subcontractors, one through
// each replica: a claim is exclusive.
func (r *racer) claim(i int) {
	client, clientOrg, sub, subOrg := r.pair(i)
	other := newUser(r.t, "RaceOther")
	oo := r.must(r.b, "create the other subcontractor", createOrg(other.Token, fmt.Sprintf("Race other %d", i), "subcontractor"))
	r.acks = append(r.acks, ack{"org", oo.field("id"), oo.Pos})
	inv := r.must(r.a, "invite", invite(client.Token, clientOrg, partners.PostV1OrganizationsOrgInvitationsJSONRequestBody{Email: "nobody." + sub.Sub + "@example.org"}))
	invID, token := inv.field("id"), inv.field("token")
	r.acks = append(r.acks, ack{"invite", invID, inv.Pos})
	as := r.both([2]send{claimInvitation(sub.Token, token, subOrg), claimInvitation(other.Token, token, oo.field("id"))})
	if w, ok := r.oneWinner("claim", 200, as, "already_claimed"); ok {
		r.acks = append(r.acks, ack{"claim", invID, w.Pos})
		r.claimed = append(r.claimed, invID)
	}
}

// siret: two organizations with the same SIRET, one through each replica.
func (r *racer) siret(i int) {
	u1, u2 := newUser(r.t, "Siret"), newUser(r.t, "Siret")
	s := newSiret()
	as := r.both([2]send{createOrgWithSiret(u1.Token, fmt.Sprintf("Siret a %d", i), s), createOrgWithSiret(u2.Token, fmt.Sprintf("Siret b %d", i), s)})
	if w, ok := r.oneWinner("siret", 201, as, "siret_taken"); ok {
		r.acks = append(r.acks, ack{"org", w.field("id"), w.Pos})
	}
}

// newSiret makes a random 14-digit SIRET with a valid Luhn key.
func newSiret() string {
	for {
		digits := make([]byte, 13)
		for i := range digits {
			digits[i] = byte('0' + rand.IntN(10))
		}
		s := string(digits)
		if strings.HasPrefix(s, "356000000") {
			continue // La Poste's SIREN has its own rule
		}
		for k := 0; k < 10; k++ {
			c := s + strconv.Itoa(k)
			if luhn(c) {
				return c
			}
		}
	}
}

func luhn(s string) bool {
	sum := 0
	for i := 0; i < len(s); i++ {
		d := int(s[len(s)-1-i] - '0')
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

// checkStore checks the races in the event store: one answer per
// invitation, one pending invitation per organization and email, one claim.
func (r *racer) checkStore(f storeFacts) {
	for _, id := range r.accepted {
		if n := f.streams["invitation-"+id]["InvitationAccepted"]; n != 1 {
			r.t.Errorf("invitation %s raced through both replicas has %d InvitationAccepted events; want 1", id, n)
		}
	}
	for _, id := range r.claimed {
		if n := f.streams["invitation-"+id]["InvitationClaimed"]; n != 1 {
			r.t.Errorf("invitation %s claimed through both replicas has %d InvitationClaimed events; want 1", id, n)
		}
	}
}

// checkReadModels counts read-model rows against the events that make
// them: an event applied twice by two replicas, or not at all, shows here
// (verify compares the final state with a replay on top of this).
func checkReadModels(t testing.TB, pool *pgxpool.Pool, f storeFacts) {
	t.Helper()
	ctx := context.Background()
	count := func(q string, args ...any) int {
		var n int
		if err := pool.QueryRow(ctx, q, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	for _, c := range []struct {
		table string
		got   int
		want  int
	}{
		{"rm_organizations", count(`SELECT count(*) FROM rm_organizations`), f.ByType["OrganizationCreated"]},
		{"rm_members", count(`SELECT count(*) FROM rm_members`), f.ByType["MemberJoined"]},
		{"rm_invitations_sent", count(`SELECT count(*) FROM rm_invitations_sent`), f.ByType["InvitationSent"]},
		{"rm_received_invitations", count(`SELECT count(*) FROM rm_received_invitations`), f.ByType["InvitationSent"]},
		{"rm_partners", count(`SELECT count(*) FROM rm_partners`), 2 * f.ByType["PartnershipEstablished"]},
	} {
		if c.got != c.want {
			t.Errorf("%s has %d rows; the events make %d", c.table, c.got, c.want)
		}
	}
	if n := count(`SELECT count(*) FROM (SELECT 1 FROM rm_invitations_sent WHERE status = 'sent'
		GROUP BY organization_id, email_ref HAVING count(*) > 1) x`); n != 0 {
		t.Errorf("%d (organization, email) pairs have more than one pending invitation", n)
	}
	if n := count(`SELECT count(*) FROM (SELECT 1 FROM rm_organizations WHERE siret IS NOT NULL GROUP BY siret HAVING count(*) > 1) x`); n != 0 {
		t.Errorf("%d SIRETs belong to more than one organization", n)
	}
	// Each invitation's row is at the version of the last event of its
	// stream that the read model reads (notices to the sender are events of
	// the stream it has nothing to show for).
	if n := count(`SELECT count(*) FROM rm_invitations_sent r WHERE r.version <> (
		SELECT max(e.stream_version) FROM events e WHERE e.stream_id = 'invitation-' || r.id AND e.event_type = ANY($1))`,
		projections.SentInvitations{}.EventTypes()); n != 0 {
		t.Errorf("%d rows of rm_invitations_sent are not at their invitation's last version", n)
	}
}
