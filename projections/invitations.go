package projections

import (
	"github.com/google/uuid"

	"partners/domain"
	"partners/eventstore"
)

// invitationProjections are the read models of partner invitations.
var invitationProjections = []Projection{SentInvitations{}, ReceivedInvitations{}, Partners{}}

// SentInvitations is the inviter's "Invitations sent" list.
type SentInvitations struct{}

func (SentInvitations) Name() string     { return "invitations_sent" }
func (SentInvitations) Tables() []string { return []string{"rm_invitations_sent"} }

func (SentInvitations) EventTypes() []string {
	return []string{"InvitationSent", "InvitationAccepted", "InvitationDeclined", "InvitationRevoked", "InvitationResent", "InvitationClaimed",
		"InvitationClaimDropped"}
}
func (SentInvitations) Apply(w *Writer, ev *eventstore.Event) {
	v := ev.StreamVersion
	switch e := ev.Data.(type) {
	case domain.InvitationSent:
		var name, company, phone *string
		ref := ""
		if c := e.Contact; c != nil {
			name, company, phone, ref = &c.Name.Value, &c.Company.Value, &c.Phone.Value, string(c.Name.Owner)
		}
		w.Exec(`INSERT INTO rm_invitations_sent (id, organization_id, email, email_ref, status, message, message_ref,
				sent_at, expires_at, version, contact_name, contact_company, contact_phone, contact_ref)
			VALUES ($1, $2, $3, $4, 'sent', $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (id) DO NOTHING`,
			e.InvitationID, e.InviterOrganizationID, e.Email.Value, string(e.EmailRef), e.Message.Value, string(e.Message.Owner),
			ev.RecordedAt, e.ExpiresAt, v, name, company, phone, ref)
	case domain.InvitationAccepted:
		w.Exec(`UPDATE rm_invitations_sent SET status = 'accepted', answered_at = $2, partner_id = $3, partner_name = $4, version = $5
			WHERE id = $1 AND version < $5`, e.InvitationID, ev.RecordedAt, e.OrganizationID, e.OrganizationName, v)
	case domain.InvitationDeclined:
		w.Exec(`UPDATE rm_invitations_sent SET status = 'declined', answered_at = $2, version = $3 WHERE id = $1 AND version < $3`,
			e.InvitationID, ev.RecordedAt, v)
	case domain.InvitationRevoked:
		w.Exec(`UPDATE rm_invitations_sent SET status = 'revoked', answered_at = $2, version = $3 WHERE id = $1 AND version < $3`,
			e.InvitationID, ev.RecordedAt, v)
	case domain.InvitationResent:
		w.Exec(`UPDATE rm_invitations_sent SET expires_at = $2, sent_at = $3, version = $4 WHERE id = $1 AND version < $4`,
			e.InvitationID, e.ExpiresAt, ev.RecordedAt, v)
	case domain.InvitationClaimed:
		w.Exec(`UPDATE rm_invitations_sent SET claimed_by_id = $2, claimed_by_name = $3, version = $4 WHERE id = $1 AND version < $4`,
			e.InvitationID, e.OrganizationID, e.OrganizationName, v)
	case domain.InvitationClaimDropped:
		w.Exec(`UPDATE rm_invitations_sent SET claimed_by_id = NULL, claimed_by_name = NULL, version = $2 WHERE id = $1 AND version < $2`,
			e.InvitationID, v)
	}
}

// ReceivedInvitations is "My invitations": the invitations addressed to an
// organization, by the verified email of one of its owners or admins
// (claimed or not), or by its claim. It keeps its own copy of who the owners and admins are.
type ReceivedInvitations struct{}

func (ReceivedInvitations) Name() string { return "invitations_received" }
func (ReceivedInvitations) Tables() []string {
	return []string{"rm_received_invitations", "rm_received_addressees"}
}
func (ReceivedInvitations) EventTypes() []string {
	return []string{"MemberJoined", "MemberRoleChanged", "MemberEmailChanged", "MemberRemoved", "AccountantAccessRevoked", "CollaboratorRemoved", "InvitationSent", "InvitationClaimed", "InvitationClaimDropped", "InvitationAccepted", "InvitationDeclined", "InvitationRevoked", "InvitationResent"}
}

func (ReceivedInvitations) Apply(w *Writer, ev *eventstore.Event) {
	v := ev.StreamVersion
	switch e := ev.Data.(type) {
	case domain.MemberJoined:
		addressee(w, e.OrganizationID, e.UserID, e.Email.Owner, addresses(e.Role, e.EmailVerified), v)
	case domain.MemberRoleChanged:
		addressee(w, e.OrganizationID, e.UserID, e.EmailRef, addresses(e.Role, e.EmailVerified), v)
	case domain.MemberEmailChanged:
		addressee(w, e.OrganizationID, e.UserID, e.EmailRef, addresses(e.Role, true), v)
	case domain.MemberRemoved:
		addressee(w, e.OrganizationID, e.UserID, "", false, v)
	case domain.AccountantAccessRevoked:
		addressee(w, e.OrganizationID, e.UserID, "", false, v)
	case domain.CollaboratorRemoved:
		addressee(w, e.OrganizationID, e.UserID, "", false, v)
	case domain.InvitationSent:
		w.Exec(`INSERT INTO rm_received_invitations (id, inviter_id, inviter_name, inviter_side, invitee_side, email_ref,
				status, message, message_ref, sent_at, expires_at, version)
			VALUES ($1, $2, $3, $4, $5, $6, 'sent', $7, $8, $9, $10, $11) ON CONFLICT (id) DO NOTHING`,
			e.InvitationID, e.InviterOrganizationID, e.InviterName, e.InviterSide.String(), e.InviteeSide.String(),
			string(e.EmailRef), e.Message.Value, string(e.Message.Owner), ev.RecordedAt, e.ExpiresAt, v)
	case domain.InvitationClaimed:
		w.Exec(`UPDATE rm_received_invitations SET claimed_by = $2, version = $3 WHERE id = $1 AND version < $3`,
			e.InvitationID, e.OrganizationID, v)
	case domain.InvitationClaimDropped:
		w.Exec(`UPDATE rm_received_invitations SET claimed_by = NULL, version = $2 WHERE id = $1 AND version < $2`, e.InvitationID, v)
	case domain.InvitationAccepted:
		w.Exec(`UPDATE rm_received_invitations SET status = 'accepted', answered_by = $2, answered_at = $3, version = $4
			WHERE id = $1 AND version < $4`, e.InvitationID, e.OrganizationID, ev.RecordedAt, v)
	case domain.InvitationDeclined:
		w.Exec(`UPDATE rm_received_invitations SET status = 'declined', answered_by = $2, answered_at = $3, version = $4
			WHERE id = $1 AND version < $4`, e.InvitationID, e.OrganizationID, ev.RecordedAt, v)
	case domain.InvitationRevoked:
		w.Exec(`UPDATE rm_received_invitations SET status = 'revoked', answered_at = $2, version = $3 WHERE id = $1 AND version < $3`,
			e.InvitationID, ev.RecordedAt, v)
	case domain.InvitationResent:
		w.Exec(`UPDATE rm_received_invitations SET expires_at = $2, sent_at = $3, version = $4 WHERE id = $1 AND version < $4`,
			e.InvitationID, e.ExpiresAt, ev.RecordedAt, v)
	}
}

// Partners is the panel: a client's subcontractors, a subcontractor's
// clients. Partnerships are never ended, so rows are only ever added.
type Partners struct{}

func (Partners) Name() string     { return "partners" }
func (Partners) Tables() []string { return []string{"rm_partners"} }

func (Partners) EventTypes() []string {
	return []string{"PartnershipEstablished"}
}
func (Partners) Apply(w *Writer, ev *eventstore.Event) {
	e, ok := ev.Data.(domain.PartnershipEstablished)
	if !ok {
		return
	}
	const q = `INSERT INTO rm_partners (organization_id, partner_id, name, side, siret, since, invitation_id)
		VALUES ($1, $2, $3, $4, nullif($5, ''), $6, $7) ON CONFLICT (organization_id, partner_id) DO NOTHING`
	w.Exec(q, e.ClientID, e.SubcontractorID, e.SubcontractorName, "subcontractor", e.SubcontractorSiret, ev.RecordedAt, e.InvitationID)
	w.Exec(q, e.SubcontractorID, e.ClientID, e.ClientName, "client", e.ClientSiret, ev.RecordedAt, e.InvitationID)
}

// addresses says whether a member's email addresses invitations to their
// organization: owners and admins with a verified email.
func addresses(role domain.Role, verified bool) bool {
	return (role == domain.RoleOwner || role == domain.RoleAdmin) && verified
}

// addressee records a member's standing, guarded by the organization
// stream's version (rows stay, inactive, after a removal). An empty ref
// keeps the one already known.
func addressee(w *Writer, org uuid.UUID, user string, ref domain.PersonRef, active bool, v int) {
	w.Exec(`INSERT INTO rm_received_addressees (organization_id, user_id, email_ref, active, version) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (organization_id, user_id) DO UPDATE SET
			email_ref = coalesce(nullif(excluded.email_ref, ''), rm_received_addressees.email_ref),
			active = excluded.active, version = excluded.version
		WHERE rm_received_addressees.version < excluded.version`, org, user, string(ref), active, v)
}
