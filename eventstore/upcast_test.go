package eventstore_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"

	"partners/domain"
	"partners/eventstore"
	"partners/internal/pgtest"
)

// A stream written partly before InvitationSent gained invitee_side (schema
// version 1) and partly after reads back in the current shape; the stored
// rows are never rewritten.
func TestUpcastMixedVersions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	store := newStore(t, pool)
	old, cur := uuid.New(), uuid.New()
	// A version-1 payload as an older build stored it.
	if _, err := pool.Exec(ctx, `INSERT INTO events (event_id, stream_id, stream_type, stream_version, event_type, schema_version, data, metadata, recorded_at)
		VALUES ($1, $2, 'invitation', 1, 'InvitationSent', 1, $3, '{"actor":{"user_id":"u"}}', now())`,
		uuid.New(), "invitation-"+old.String(),
		`{"invitation_id":"`+old.String()+`","inviter_organization_id":"`+uuid.NewString()+`","inviter_name":"Acme","inviter_side":"client","email_ref":"p_x","token_hash":"h","expires_at":"2026-01-01T00:00:00Z","locale":"fr"}`); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Append(ctx, eventstore.Batch{Streams: []eventstore.StreamAppend{{StreamID: "invitation-" + cur.String(), StreamType: "invitation",
		Expected: eventstore.NoStream, Events: []eventstore.NewEvent{{ID: uuid.New(), Data: domain.InvitationSent{InvitationID: cur,
			InviterSide: domain.SideSubcontractor, InviteeSide: domain.SideClient, InviterName: "Prov"}}}}}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id          uuid.UUID
		wantVersion int
		wantInvitee domain.Side
	}{{old, 1, domain.SideSubcontractor}, {cur, 2, domain.SideClient}} {
		evs, _, err := store.ReadStream(ctx, "invitation-"+tc.id.String())
		if err != nil {
			t.Fatal(err)
		}
		e := evs[0].Data.(domain.InvitationSent)
		if evs[0].SchemaVersion != tc.wantVersion || e.InviteeSide != tc.wantInvitee {
			t.Fatalf("stored v%d invitee %v; want v%d upcast to invitee %v", evs[0].SchemaVersion, e.InviteeSide, tc.wantVersion, tc.wantInvitee)
		}
	}
	var stored string
	if err := pool.QueryRow(ctx, `SELECT data::text FROM events WHERE stream_id = $1`, "invitation-"+old.String()).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if len(stored) == 0 || strings.Contains(stored, "invitee_side") {
		t.Fatalf("the old payload was rewritten: %s", stored)
	}
}
