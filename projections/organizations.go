package projections

import (
	"github.com/google/uuid"

	"partners/domain"
	"partners/eventstore"
)

// Organizations is the read model of company accounts.
type Organizations struct{}

func (Organizations) Name() string     { return "organizations" }
func (Organizations) Tables() []string { return []string{"rm_organizations"} }

func (Organizations) EventTypes() []string {
	return []string{"OrganizationCreated"}
}
func (Organizations) Apply(w *Writer, ev *eventstore.Event) {
	switch e := ev.Data.(type) {
	case domain.OrganizationCreated:
		w.Exec(`INSERT INTO rm_organizations (id, name, side, siret, created_at, version)
			VALUES ($1, $2, $3, nullif($4, ''), $5, $6) ON CONFLICT (id) DO NOTHING`,
			e.OrganizationID, e.Name, e.Side.String(), e.Siret, ev.RecordedAt, ev.StreamVersion)
	}
}

// Members is the read model of memberships: who is in which organization,
// with which role and collaborator flags, and how they joined. Lists read
// it; membership checks do not (they read the organization's events, which
// never lag behind a revocation, see app.GrantOf).
//
// Every membership event is in its organization's stream. Members leave
// (their row is deleted), so a row cannot keep the version that would stop
// an older event applied again from bringing it back: each statement runs
// only while the organization's applied version (rm_member_streams) is
// below the event's, and the version is bumped after them.
type Members struct{}

func (Members) Name() string     { return "members" }
func (Members) Tables() []string { return []string{"rm_members", "rm_member_streams"} }

// EventTypes: every event of an organization's stream bumps the stream's
// applied version, so all of them.
func (Members) EventTypes() []string { return domain.OrganizationEventTypes() }

// memberGuard holds while the organization $1 has not applied version $2.
const memberGuard = `NOT EXISTS (SELECT 1 FROM rm_member_streams s WHERE s.organization_id = $1::uuid AND s.version >= $2::integer)`

func (Members) Apply(w *Writer, ev *eventstore.Event) {
	if ev.StreamType != domain.OrganizationStreamType {
		return
	}
	o, ok := ev.Data.(domain.Organizational)
	if !ok || len(o.OrganizationIDs()) == 0 {
		return
	}
	org, v := o.OrganizationIDs()[0], ev.StreamVersion
	switch e := ev.Data.(type) {
	case domain.MemberJoined:
		w.Exec(`INSERT INTO rm_members (organization_id, user_id, email, email_ref, name, role,
				can_purchase, can_see_all_orders, since, version, joined_via, invitation_id)
			SELECT $1::uuid, $3::text, $4::text, $5::text, $6::text, $7::text, $8::boolean, $9::boolean, $10::timestamptz,
				$2::integer, $11::text, $12::uuid
			 WHERE `+memberGuard+`
			ON CONFLICT (organization_id, user_id) DO UPDATE SET
				email = excluded.email, email_ref = excluded.email_ref, name = excluded.name,
				role = excluded.role, can_purchase = excluded.can_purchase,
				can_see_all_orders = excluded.can_see_all_orders, since = excluded.since,
				version = excluded.version, joined_via = excluded.joined_via, invitation_id = excluded.invitation_id`,
			org, v, e.UserID, e.Email.Value, string(e.Email.Owner), e.Name.Value, e.Role.String(),
			e.CanPurchase, e.CanSeeAllOrders, ev.RecordedAt, e.Via, e.InvitationID)
	case domain.MemberRoleChanged:
		w.Exec(`UPDATE rm_members SET role = $4, version = $2 WHERE organization_id = $1 AND user_id = $3 AND `+memberGuard,
			org, v, e.UserID, e.Role.String())
	case domain.MemberEmailChanged:
		w.Exec(`UPDATE rm_members SET email = $4, email_ref = $5, name = $6, version = $2
			WHERE organization_id = $1 AND user_id = $3 AND `+memberGuard, org, v, e.UserID, e.Email.Value, string(e.EmailRef), e.Name.Value)
	case domain.CollaboratorPermissionsChanged:
		w.Exec(`UPDATE rm_members SET can_purchase = $4, can_see_all_orders = $5, version = $2
			WHERE organization_id = $1 AND user_id = $3 AND `+memberGuard, org, v, e.UserID, e.CanPurchase, e.CanSeeAllOrders)
	case domain.MemberRemoved:
		removeMember(w, org, v, e.UserID)
	case domain.AccountantAccessRevoked:
		removeMember(w, org, v, e.UserID)
	case domain.CollaboratorRemoved:
		removeMember(w, org, v, e.UserID)
	}
	w.Exec(`INSERT INTO rm_member_streams (organization_id, version) VALUES ($1, $2)
		ON CONFLICT (organization_id) DO UPDATE SET version = excluded.version WHERE rm_member_streams.version < excluded.version`, org, v)
}

func removeMember(w *Writer, org uuid.UUID, v int, userID string) {
	w.Exec(`DELETE FROM rm_members WHERE organization_id = $1 AND user_id = $3 AND `+memberGuard, org, v, userID)
}

// All is every read model, in the order the projector feeds them.
func All() []Projection {
	all := []Projection{Organizations{}, Members{}}
	all = append(all, invitationProjections...)
	all = append(all, portalProjections...)
	all = append(all, teamProjections...)
	return all
}
