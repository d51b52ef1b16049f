package projections

import (
	"partners/domain"
	"partners/eventstore"
)

// Organizations is the read model of company accounts.
type Organizations struct{}

func (Organizations) Name() string     { return "organizations" }
func (Organizations) Tables() []string { return []string{"rm_organizations"} }

func (Organizations) Apply(w *Writer, ev *eventstore.Event) {
	switch e := ev.Data.(type) {
	case domain.OrganizationCreated:
		w.Exec(`INSERT INTO rm_organizations (id, name, side, siret, created_at, version)
			VALUES ($1, $2, $3, nullif($4, ''), $5, $6) ON CONFLICT (id) DO NOTHING`,
			e.OrganizationID, e.Name, e.Side.String(), e.Siret, ev.RecordedAt, ev.StreamVersion)
	}
}

// Members is the read model of memberships: who is in which organization,
// with which role and collaborator flags.
type Members struct{}

func (Members) Name() string     { return "members" }
func (Members) Tables() []string { return []string{"rm_members"} }

func (Members) Apply(w *Writer, ev *eventstore.Event) {
	switch e := ev.Data.(type) {
	case domain.MemberJoined:
		w.Exec(`INSERT INTO rm_members (organization_id, user_id, email, email_ref, name, role,
				can_purchase, can_see_all_orders, since, version)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			ON CONFLICT (organization_id, user_id) DO UPDATE SET
				email = excluded.email, email_ref = excluded.email_ref, name = excluded.name,
				role = excluded.role, can_purchase = excluded.can_purchase,
				can_see_all_orders = excluded.can_see_all_orders, since = excluded.since,
				version = excluded.version
			WHERE rm_members.version < excluded.version`,
			e.OrganizationID, e.UserID, e.Email.Value, string(e.Email.Owner), e.Name.Value, e.Role.String(),
			e.CanPurchase, e.CanSeeAllOrders, ev.RecordedAt, ev.StreamVersion)
	}
}

// All is every read model, in the order the projector feeds them.
func All() []Projection {
	all := []Projection{Organizations{}, Members{}}
	all = append(all, invitationProjections...)
	all = append(all, portalProjections...)
	all = append(all, teamProjections...)
	return all
}
