package projections

import (
	"partners/domain"
	"partners/eventstore"
)

// teamProjections are the read models of the team: colleague and
// accountant invitations, collaborator accounts and collaboration requests.
// (Memberships themselves are the Members read model.)
var teamProjections = []Projection{TeamInvitations{}, CollaboratorInvitations{}, CollaborationRequests{}}

func init() {
	// Where these read models keep personal data, scrubbed when its owner
	// is forgotten.
	personalColumns["team_invitations"] = []PersonalColumn{
		{Table: "rm_team_invitations", Value: "email", Ref: "email_ref"},
		{Table: "rm_team_invitations", Value: "message", Ref: "email_ref"},
	}
	personalColumns["collaborator_invitations"] = []PersonalColumn{
		{Table: "rm_collaborator_invitations", Value: "first_name", Ref: "email_ref"},
		{Table: "rm_collaborator_invitations", Value: "last_name", Ref: "email_ref"},
		{Table: "rm_collaborator_invitations", Value: "email", Ref: "email_ref"},
		{Table: "rm_collaborator_invitations", Value: "phone", Ref: "email_ref"},
	}
	personalColumns["collaboration_requests"] = []PersonalColumn{
		{Table: "rm_collaboration_requests", Value: "requester_email", Ref: "requester_ref"},
		{Table: "rm_collaboration_requests", Value: "requester_name", Ref: "requester_ref"},
	}
}

// TeamInvitations lists each organization's colleague and accountant
// invitations, pending and answered: "member-invitations", and the pending
// part of "accountants".
type TeamInvitations struct{}

func (TeamInvitations) Name() string     { return "team_invitations" }
func (TeamInvitations) Tables() []string { return []string{"rm_team_invitations"} }

func (TeamInvitations) EventTypes() []string {
	return []string{"MemberInvitationSent", "MemberInvitationAccepted", "MemberInvitationRevoked", "AccountantInvitationSent", "AccountantInvitationAccepted", "AccountantInvitationRevoked"}
}
func (TeamInvitations) Apply(w *Writer, ev *eventstore.Event) {
	v := ev.StreamVersion
	const insert = `INSERT INTO rm_team_invitations (id, kind, organization_id, email, email_ref, role, message, invited_by,
			status, sent_at, expires_at, version)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'sent', $9, $10, $11) ON CONFLICT (id) DO NOTHING`
	const accept = `UPDATE rm_team_invitations SET status = 'accepted', answered_at = $2, accepted_by = $3, version = $4
		WHERE id = $1 AND version < $4`
	const revoke = `UPDATE rm_team_invitations SET status = 'revoked', answered_at = $2, version = $3 WHERE id = $1 AND version < $3`
	switch e := ev.Data.(type) {
	case domain.MemberInvitationSent:
		w.Exec(insert, e.InvitationID, string(domain.TeamInvitationMember), e.OrganizationID, e.Email.Value, string(e.EmailRef),
			e.Role.String(), "", e.InvitedBy, ev.RecordedAt, e.ExpiresAt, v)
	case domain.AccountantInvitationSent:
		w.Exec(insert, e.InvitationID, string(domain.TeamInvitationAccountant), e.OrganizationID, e.Email.Value, string(e.EmailRef),
			domain.RoleAccountant.String(), e.Message.Value, e.InvitedBy, ev.RecordedAt, e.ExpiresAt, v)
	case domain.MemberInvitationAccepted:
		w.Exec(accept, e.InvitationID, ev.RecordedAt, e.UserID, v)
	case domain.AccountantInvitationAccepted:
		w.Exec(accept, e.InvitationID, ev.RecordedAt, e.UserID, v)
	case domain.MemberInvitationRevoked:
		w.Exec(revoke, e.InvitationID, ev.RecordedAt, v)
	case domain.AccountantInvitationRevoked:
		w.Exec(revoke, e.InvitationID, ev.RecordedAt, v)
	}
}

// CollaboratorInvitations keeps the collaborator accounts created by an
// owner or admin: the profile typed at creation (shown in the list of
// collaborators once activated) and whether it was activated or revoked.
// Its invited_at is when the last activation email went out: a resend
// moves it, with the expiry, as "Invitations sent" does for partners.
type CollaboratorInvitations struct{}

func (CollaboratorInvitations) Name() string     { return "collaborator_invitations" }
func (CollaboratorInvitations) Tables() []string { return []string{"rm_collaborator_invitations"} }

func (CollaboratorInvitations) EventTypes() []string {
	return []string{"CollaboratorInvited", "CollaboratorInvitationResent", "CollaboratorActivated", "CollaboratorInvitationRevoked"}
}
func (CollaboratorInvitations) Apply(w *Writer, ev *eventstore.Event) {
	v := ev.StreamVersion
	switch e := ev.Data.(type) {
	case domain.CollaboratorInvited:
		w.Exec(`INSERT INTO rm_collaborator_invitations (id, organization_id, first_name, last_name, email, email_ref, phone,
				can_purchase, can_see_all_orders, status, invited_at, expires_at, version)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'invited', $10, $11, $12) ON CONFLICT (id) DO NOTHING`,
			e.InvitationID, e.OrganizationID, e.FirstName.Value, e.LastName.Value, e.Email.Value, string(e.EmailRef), e.Phone.Value,
			e.CanPurchase, e.CanSeeAllOrders, ev.RecordedAt, e.ExpiresAt, v)
	case domain.CollaboratorInvitationResent:
		w.Exec(`UPDATE rm_collaborator_invitations SET invited_at = $2, expires_at = $3, version = $4 WHERE id = $1 AND version < $4`,
			e.InvitationID, ev.RecordedAt, e.ExpiresAt, v)
	case domain.CollaboratorActivated:
		w.Exec(`UPDATE rm_collaborator_invitations SET status = 'activated', activated_at = $2, activated_by = $3, version = $4
			WHERE id = $1 AND version < $4`, e.InvitationID, ev.RecordedAt, e.UserID, v)
	case domain.CollaboratorInvitationRevoked:
		w.Exec(`UPDATE rm_collaborator_invitations SET status = 'revoked', version = $2 WHERE id = $1 AND version < $2`, e.InvitationID, v)
	}
}

// CollaborationRequests matches requests to be attached with the
// organizations they reach, afterwards and from its own tables: each
// organization's SIRET, and its members (an owner's verified email reaches
// the organization). A request reaches whatever organizations match when it
// is read, as the commands decide on the organizations' current state.
type CollaborationRequests struct{}

func (CollaborationRequests) Name() string { return "collaboration_requests" }
func (CollaborationRequests) Tables() []string {
	return []string{"rm_collaboration_requests", "rm_collaboration_answers", "rm_collaboration_organizations", "rm_collaboration_members"}
}
func (CollaborationRequests) EventTypes() []string {
	return []string{"OrganizationCreated", "MemberJoined", "MemberRoleChanged", "MemberEmailChanged", "MemberRemoved", "AccountantAccessRevoked", "CollaboratorRemoved", "CollaborationRequested", "CollaborationRequestApproved", "CollaborationRequestRejected"}
}

func (CollaborationRequests) Apply(w *Writer, ev *eventstore.Event) {
	v := ev.StreamVersion
	// Members who leave keep their row with no role, so that its version
	// still stops an older event applied again.
	const setRole = `UPDATE rm_collaboration_members SET role = $3, version = $4
		WHERE organization_id = $1 AND user_id = $2 AND version < $4`
	const upsert = `INSERT INTO rm_collaboration_members (organization_id, user_id, email_ref, verified, role, version)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (organization_id, user_id) DO UPDATE SET email_ref = excluded.email_ref, verified = excluded.verified,
			role = excluded.role, version = excluded.version
		WHERE rm_collaboration_members.version < excluded.version`
	switch e := ev.Data.(type) {
	case domain.OrganizationCreated:
		w.Exec(`INSERT INTO rm_collaboration_organizations (organization_id, siret) VALUES ($1, nullif($2, ''))
			ON CONFLICT (organization_id) DO NOTHING`, e.OrganizationID, e.Siret)
	case domain.MemberJoined:
		w.Exec(upsert, e.OrganizationID, e.UserID, string(e.Email.Owner), e.EmailVerified, e.Role.String(), v)
	case domain.MemberRoleChanged:
		w.Exec(upsert, e.OrganizationID, e.UserID, string(e.EmailRef), e.EmailVerified, e.Role.String(), v)
	case domain.MemberEmailChanged:
		w.Exec(upsert, e.OrganizationID, e.UserID, string(e.EmailRef), true, e.Role.String(), v)
	case domain.MemberRemoved:
		w.Exec(setRole, e.OrganizationID, e.UserID, "", v)
	case domain.AccountantAccessRevoked:
		w.Exec(setRole, e.OrganizationID, e.UserID, "", v)
	case domain.CollaboratorRemoved:
		w.Exec(setRole, e.OrganizationID, e.UserID, "", v)
	case domain.CollaborationRequested:
		w.Exec(`INSERT INTO rm_collaboration_requests (id, requester_id, requester_email, requester_name, requester_ref,
				target_siret, target_ref, requested_at)
			VALUES ($1, $2, $3, $4, $5, nullif($6, ''), nullif($7, ''), $8) ON CONFLICT (id) DO NOTHING`,
			e.RequestID, e.RequesterID, e.RequesterEmail.Value, e.RequesterName.Value, string(e.RequesterEmail.Owner),
			e.TargetSiret, string(e.TargetRef), ev.RecordedAt)
	case domain.CollaborationRequestApproved:
		w.Exec(`INSERT INTO rm_collaboration_answers (request_id, organization_id, status, can_purchase, can_see_all_orders, answered_by, answered_at)
			VALUES ($1, $2, 'approved', $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
			e.RequestID, e.OrganizationID, e.CanPurchase, e.CanSeeAllOrders, e.ApprovedBy, ev.RecordedAt)
	case domain.CollaborationRequestRejected:
		w.Exec(`INSERT INTO rm_collaboration_answers (request_id, organization_id, status, answered_by, answered_at)
			VALUES ($1, $2, 'rejected', $3, $4) ON CONFLICT DO NOTHING`, e.RequestID, e.OrganizationID, e.RejectedBy, ev.RecordedAt)
	}
}
