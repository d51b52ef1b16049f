package projections_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"partners/domain"
	"partners/eventstore"
	"partners/internal/pgtest"
	"partners/projections"
)

// BenchmarkAsOf compares, on one organization with -asof-org-events of its
// own (accepted invitations: 3 of its events each, 5 in all with the
// partner's), the as-of answer of the partner panel and "Invitations sent"
// from the valid-time read models and from a replay, at instants spread
// over the history; and the live projector's apply rate with the history
// triggers on and off. Figures are logged, never asserted:
//
//	go test ./projections -run '^$' -bench AsOf -benchtime 1x -v
func BenchmarkAsOf(b *testing.B) {
	ctx := context.Background()
	pool := pgtest.Fresh2(b)
	keys, err := eventstore.NewKeyring("test-data-key-0123456789")
	if err != nil {
		b.Fatal(err)
	}
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); now = now.Add(time.Second); return now }
	store := eventstore.New(pool, keys, clock)
	const stories = 3334 // 10,002 events of the organization
	org := uuid.New()
	owner := keys.Ref("owner@acme.example")
	person := func(ref domain.PersonRef, v string) domain.Personal { return domain.PersonalOf(ref, v) }
	if _, err := store.Append(ctx, eventstore.Batch{Streams: []eventstore.StreamAppend{{
		StreamID: domain.OrganizationStream(org), StreamType: domain.OrganizationStreamType, Expected: eventstore.NoStream,
		Events: []eventstore.NewEvent{{ID: uuid.New(), Data: domain.OrganizationCreated{OrganizationID: org, Name: "Acme", Side: domain.SideClient}},
			{ID: uuid.New(), Data: domain.MemberJoined{OrganizationID: org, UserID: "owner", Email: person(owner, "owner@acme.example"),
				Name: person(owner, "Owner"), EmailVerified: true, Role: domain.RoleOwner, Via: "creation"}}},
	}}}); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	for i := range stories {
		sub, inv := uuid.New(), uuid.New()
		email := fmt.Sprintf("p%d@sub.example", i)
		ref := keys.Ref(email)
		name := fmt.Sprintf("Sous-traitant %05d", i)
		// Sent, then accepted a second later: the accepted version
		// replaces the sent one, which goes to history.
		sent := eventstore.Batch{Streams: []eventstore.StreamAppend{
			{StreamID: domain.OrganizationStream(sub), StreamType: domain.OrganizationStreamType, Expected: eventstore.NoStream,
				Events: []eventstore.NewEvent{{ID: uuid.New(), Data: domain.OrganizationCreated{OrganizationID: sub, Name: name, Side: domain.SideSubcontractor}},
					{ID: uuid.New(), Data: domain.MemberJoined{OrganizationID: sub, UserID: "u" + sub.String(), Email: person(ref, email),
						Name: person(ref, "P"), EmailVerified: true, Role: domain.RoleOwner, Via: "creation"}}}},
			{StreamID: domain.InvitationStream(inv), StreamType: domain.InvitationStreamType, Expected: eventstore.NoStream,
				Events: []eventstore.NewEvent{{ID: uuid.New(), Data: domain.InvitationSent{InvitationID: inv, InviterOrganizationID: org, InviterName: "Acme",
					InviterSide: domain.SideClient, InviteeSide: domain.SideSubcontractor, Email: person(ref, email), EmailRef: ref,
					Message: person(owner, "Bonjour"), TokenHash: strings.Repeat("0", 64), ExpiresAt: now.Add(30 * 24 * time.Hour), Locale: "fr"}}}},
		}}
		accepted := eventstore.Batch{Streams: []eventstore.StreamAppend{
			{StreamID: domain.InvitationStream(inv), StreamType: domain.InvitationStreamType, Expected: eventstore.Any,
				Events: []eventstore.NewEvent{{ID: uuid.New(), Data: domain.InvitationAccepted{InvitationID: inv, InviterOrganizationID: org, OrganizationID: sub,
					OrganizationName: name, AcceptedBy: "u" + sub.String(), ClientID: org, SubcontractorID: sub, Via: "email"}}}},
			{StreamID: domain.PartnershipStream(org, sub), StreamType: domain.PartnershipStreamType, Expected: eventstore.NoStream,
				Events: []eventstore.NewEvent{{ID: uuid.New(), Data: domain.PartnershipEstablished{ClientID: org, ClientName: "Acme",
					SubcontractorID: sub, SubcontractorName: name, InvitationID: inv}}}},
		}}
		for _, batch := range []eventstore.Batch{sent, accepted} {
			if _, err := store.Append(ctx, batch); err != nil {
				b.Fatal(err)
			}
		}
	}
	var total, own int64
	if err := pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE $1 = ANY(organization_ids)) FROM events`, org).Scan(&total, &own); err != nil {
		b.Fatal(err)
	}
	b.Logf("history: %d events, %d of the organization, appended in %s", total, own, time.Since(start).Round(time.Millisecond))

	all := projections.All()
	if err := projections.EnsureCheckpoints(ctx, pool, all); err != nil {
		b.Fatal(err)
	}
	project := func(triggers bool) {
		for _, pr := range all {
			for _, t := range pr.Tables() {
				for _, q := range []string{`TRUNCATE ` + t, `TRUNCATE ` + t + `_history`} {
					if _, err := pool.Exec(ctx, q); err != nil && !strings.Contains(err.Error(), "does not exist") {
						b.Fatal(err)
					}
				}
				op := "ENABLE"
				if !triggers {
					op = "DISABLE"
				}
				if _, err := pool.Exec(ctx, `ALTER TABLE `+t+` `+op+` TRIGGER USER`); err != nil {
					b.Fatal(err)
				}
			}
		}
		if _, err := pool.Exec(ctx, `UPDATE projection_checkpoints SET transaction_id = '0', outbox_offset = 0, position = 0`); err != nil {
			b.Fatal(err)
		}
		p := projections.NewProjector(store, quiet, all...)
		start := time.Now()
		var n int
		for {
			k, err := p.Step(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if k == 0 {
				break
			}
			n += k
		}
		b.Logf("live projector, history triggers %v: %d events in %s, %.0f events/s", triggers, n, time.Since(start).Round(time.Millisecond),
			float64(n)/time.Since(start).Seconds())
	}
	for range 3 {
		project(false)
		project(true)
	}
	var hist int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM rm_invitations_sent_history`).Scan(&hist); err != nil {
		b.Fatal(err)
	}
	b.Logf("rm_invitations_sent_history: %d rows", hist)

	ps, err := projections.ByName("partners", "invitations_sent")
	if err != nil {
		b.Fatal(err)
	}
	first, last := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), now
	read := func(at time.Time) func(context.Context, projections.Reader) error {
		return func(ctx context.Context, r projections.Reader) error {
			if _, _, err := r.Partners(ctx, org, "", projections.Page{Limit: 50}); err != nil {
				return err
			}
			_, _, err := r.SentInvitations(ctx, org, "", at, projections.Page{Limit: 50})
			return err
		}
	}
	measure := func(name string, runs int, answer func(at time.Time) error) {
		var ds []time.Duration
		for i := range runs {
			at := first.Add(time.Duration(int64(last.Sub(first)) * int64(i+1) / int64(runs)))
			t0 := time.Now()
			if err := answer(at); err != nil {
				b.Fatal(err)
			}
			ds = append(ds, time.Since(t0))
		}
		slices.Sort(ds)
		b.Logf("%s: %d answers (panel + sent, 50 each) at instants spread over the history: p50 %s, p95 %s, max %s", name, runs,
			ds[len(ds)/2].Round(10*time.Microsecond), ds[len(ds)*95/100].Round(10*time.Microsecond), ds[len(ds)-1].Round(10*time.Microsecond))
	}
	// The plans, at mid-history.
	mid := first.Add(last.Sub(first) / 2)
	if _, err := projections.AsOfValidTime(ctx, store, ps, mid, func(ctx context.Context, r projections.Reader) error {
		for _, q := range []string{
			`SELECT partner_id, name, side, siret, since, invitation_id FROM rm_partners
			 WHERE organization_id = $1 AND ($2 = '' OR lower(name) LIKE '%' || $2 || '%' ESCAPE '\')
			   AND ($3 = '' OR (lower(name), partner_id::text) > ($3, $4))
			 ORDER BY lower(name), partner_id::text LIMIT $5`,
			`SELECT id, email, status, message, sent_at, expires_at, answered_at FROM rm_invitations_sent i
			 WHERE organization_id = $1 AND ($2 = '' OR i.status = $2) AND ($3 = '' OR (sent_at, id::text) < ($3::timestamptz, $4))
			 ORDER BY sent_at DESC, id::text DESC LIMIT $5`,
		} {
			rows, err := r.Q.Query(ctx, `EXPLAIN (ANALYZE, BUFFERS) `+q, org, "", "", "", 51)
			if err != nil {
				return err
			}
			plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return err
			}
			b.Logf("plan as of mid-history:\n%s", strings.Join(plan, "\n"))
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	measure("live (no as_of)", 200, func(at time.Time) error {
		return read(at)(ctx, projections.Reader{Q: pool})
	})
	measure("valid time", 200, func(at time.Time) error {
		ok, err := projections.AsOfValidTime(ctx, store, ps, at, read(at))
		if err == nil && !ok {
			err = fmt.Errorf("no valid-time answer as of %s", at)
		}
		return err
	})
	measure("replay", 20, func(at time.Time) error {
		return projections.AsOfReplay(ctx, store, ps, projections.Filter{Organization: org, Until: at}, read(at))
	})
	for range b.N {
	}
}
