package api_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"partners/domain"
	"partners/eventstore"
	"partners/internal/apitest"
	"partners/internal/pgtest"
)

// streamReads counts the reads of one stream's events after a version (a
// fold's load: eventstore.ReadStreamAfter's statement) that the pool it
// traces sends, batched or not. An append's own check of the stream's
// version is part of the append's round trip, not a read.
type streamReads struct {
	mu     sync.Mutex
	stream string
	n      int
}

func (r *streamReads) watch(stream string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stream, r.n = stream, 0
}

func (r *streamReads) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

func (r *streamReads) seen(sql string, args []any) {
	if !strings.Contains(sql, "FROM events WHERE stream_id = $1 AND stream_version > $2") || len(args) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if id, ok := args[0].(string); ok && id == r.stream && r.stream != "" {
		r.n++
	}
}

func (r *streamReads) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	r.seen(d.SQL, d.Args)
	return ctx
}
func (r *streamReads) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (r *streamReads) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}
func (r *streamReads) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	r.seen(d.SQL, d.Args)
}
func (r *streamReads) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// tracedPool is a pool on the package database whose reads of a stream
// are counted.
func tracedPool(t *testing.T) (*pgxpool.Pool, *streamReads) {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	eventstore.ConfigurePool(cfg)
	reads := &streamReads{}
	cfg.ConnConfig.Tracer = reads
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool, reads
}

// A command on an organization's path reads the organization's events
// once (issue 19): the caller's newer verified email is decided on the
// state the command loads and appended in the command's own transaction,
// ahead of its events, not by a read (and an append) of its own before
// the command runs. The secret of an invitation sent meanwhile goes with
// the invitation, not with the email's record.
func TestOrganizationCommandReadsItsOrganizationOnce(t *testing.T) {
	pool, reads := tracedPool(t)
	s := apitest.Start(t, pool, apitest.Options{})
	ctx := context.Background()
	owner, adam := apitest.NewUser(t, "Olivia"), apitest.NewUser(t, "Adam")
	org, _ := s.CreateOrganization(t, owner, "Acme", "client")
	inv, token := inviteColleague(t, s, owner, org, adam.Email, "member")
	apitest.Expect(t, call(t, s, adam, "POST", "/v1/member-invitations/"+inv+"/accept", map[string]any{"token": token}), http.StatusOK)
	orgStream := domain.OrganizationStream(uuid.MustParse(org))

	moved := owner
	moved.Email = "olivia." + uuid.NewString()[:8] + "@acme-group.example"
	moved.Token = apitest.Token(t, owner.Sub, moved.Email, owner.Name)
	for _, tc := range []struct {
		name         string
		as           apitest.User
		method, path string
		body         map[string]any
		status       int
	}{
		{"InviteMember", owner, "POST", "/member-invitations", map[string]any{"email": "c1." + owner.Email, "role": "member"}, http.StatusCreated},
		{"ChangeMemberRole", owner, "PATCH", "/members/" + adam.Sub, map[string]any{"role": "admin"}, http.StatusOK},
		{"CreatePortalUser", owner, "POST", "/portal-users", map[string]any{"email": "p1." + owner.Email, "name": "Paul"}, http.StatusCreated},
		{"InviteMember with a newer email", moved, "POST", "/member-invitations", map[string]any{"email": "c2." + owner.Email, "role": "member"}, http.StatusCreated},
		{"ChangeMemberRole after it", moved, "PATCH", "/members/" + adam.Sub, map[string]any{"role": "member"}, http.StatusOK},
	} {
		reads.watch(orgStream)
		r := call(t, s, tc.as, tc.method, orgPath(org, tc.path), tc.body)
		apitest.Expect(t, r, tc.status)
		if n := reads.count(); n != 1 {
			t.Errorf("%s read the organization's events %d times; want once", tc.name, n)
		}
	}
	reads.watch("")

	// The newer email was recorded once, in the invitation's transaction,
	// ahead of it; the invitation's link went with the invitation.
	evs, _, err := s.Store.ReadStream(ctx, orgStream)
	if err != nil {
		t.Fatal(err)
	}
	var changed []eventstore.Event
	for _, e := range evs {
		if _, ok := e.Data.(domain.MemberEmailChanged); ok {
			changed = append(changed, e)
		}
	}
	if len(changed) != 1 {
		t.Fatalf("MemberEmailChanged recorded %d times; want once", len(changed))
	}
	rows, err := s.Pool.Query(ctx, `SELECT e.event_type, e.position FROM pending_secrets JOIN events e USING (event_id)
		WHERE e.position >= $1 ORDER BY e.position`, changed[0].Position)
	if err != nil {
		t.Fatal(err)
	}
	type secretOf struct {
		Type     string
		Position int64
	}
	secrets, err := pgx.CollectRows(rows, pgx.RowToStructByPos[secretOf])
	if err != nil {
		t.Fatal(err)
	}
	if len(secrets) != 1 || secrets[0].Type != "MemberInvitationSent" {
		t.Fatalf("pending secrets from the newer email on = %+v; want the invitation's only", secrets)
	}
	sentPosition := secrets[0].Position
	emailTx, _, err := s.Store.LogOrderOf(ctx, changed[0].Position)
	if err != nil {
		t.Fatal(err)
	}
	sentTx, _, err := s.Store.LogOrderOf(ctx, sentPosition)
	if err != nil {
		t.Fatal(err)
	}
	if emailTx != sentTx || changed[0].Position > sentPosition {
		t.Fatalf("MemberEmailChanged at %d (transaction %d), invitation at %d (transaction %d); want one transaction, the email first",
			changed[0].Position, emailTx, sentPosition, sentTx)
	}
}
