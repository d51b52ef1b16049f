package domain

import "time"

// This file holds the rule that an invitation granting a role or access
// (a colleague's, an accountant's, a collaborator's) lives no longer than
// its author's right to grant it (DOMAIN.md section 5). Without it, an
// admin who is removed keeps the link of an invitation they sent, and
// walks back in with it, or lets in whoever they sent it to.
//
// Two decisions enforce it. A change to the team (a removal, a role
// change) revokes, with the change and for ReasonAuthorLostRight, every
// pending invitation whose author it leaves without the right to grant
// it. And an acceptance or an activation is refused when the author may
// no longer grant what the invitation grants: an invitation sent while
// its author's removal was being decided escapes the first decision,
// never the second, which reads the organization at the version the
// acceptance appends to.

// ReasonAuthorLostRight is why an invitation was revoked when its author
// was removed, or given a role that may no longer grant it.
const ReasonAuthorLostRight = "author_lost_right"

// MayGrant reports whether a member may, as the organization stands, send
// an invitation that grants the role r: members.manage (owners and
// admins) grants accountants, collaborators and members; only owners
// grant admins.
func (o *Organization) MayGrant(userID string, r Role) bool {
	if !Authorize(o.GrantOf(userID), ActionMembersManage).Allowed {
		return false
	}
	return r != RoleAdmin || o.Members[userID].Role == RoleOwner
}

// AuthoredInvitation is an invitation as its author's right sees it: a
// colleague's or an accountant's (*TeamInvitation), or a collaborator's
// (*CollaboratorInvitation).
type AuthoredInvitation interface {
	IsPending(now time.Time) bool
	author() string
	grants() Role
	revokedFor() string
	revocation(by, reason string) Event
}

func (i *TeamInvitation) author() string     { return i.InvitedBy }
func (i *TeamInvitation) grants() Role       { return i.Role }
func (i *TeamInvitation) revokedFor() string { return i.RevokedFor }
func (i *TeamInvitation) revocation(by, reason string) Event {
	if i.Kind == TeamInvitationAccountant {
		return AccountantInvitationRevoked{InvitationID: i.ID, OrganizationID: i.OrganizationID, RevokedBy: by, Reason: reason}
	}
	return MemberInvitationRevoked{InvitationID: i.ID, OrganizationID: i.OrganizationID, RevokedBy: by, Reason: reason}
}

func (i *CollaboratorInvitation) author() string     { return i.InvitedBy }
func (i *CollaboratorInvitation) grants() Role       { return RoleCollaborator }
func (i *CollaboratorInvitation) revokedFor() string { return i.RevokedFor }
func (i *CollaboratorInvitation) revocation(by, reason string) Event {
	return CollaboratorInvitationRevoked{InvitationID: i.ID, OrganizationID: i.OrganizationID, RevokedBy: by, Reason: reason}
}

// AuthorsChange is a change to the team just decided, as the invitations
// its members sent see it.
type AuthorsChange struct {
	// Events are the organization's events the change appends.
	Events []Event
	Actor  Actor
	Now    time.Time
}

// DecideAuthorsInvitations decides what a change to the team, decided on
// o, does to invitations members sent: each pending one whose author, in
// the organization as the change leaves it, may no longer grant it, is
// revoked for ReasonAuthorLostRight by whoever made the change. The events
// of sent[i] are at index i (none for an invitation the change leaves
// alive).
func DecideAuthorsInvitations(o *Organization, sent []AuthoredInvitation, c AuthorsChange) [][]Event {
	out := make([][]Event, len(sent))
	if len(c.Events) == 0 {
		return out
	}
	after := o.Clone()
	for _, e := range c.Events {
		after.Apply(e)
	}
	for i, inv := range sent {
		if inv.IsPending(c.Now) && !after.MayGrant(inv.author(), inv.grants()) {
			out[i] = []Event{inv.revocation(c.Actor.UserID, ReasonAuthorLostRight)}
		}
	}
	return out
}

// errAuthorLostRight is the answer to a link of an invitation that died
// with its author's right.
func errAuthorLostRight() *Error {
	return (&Error{Code: CodeInvitationRevoked,
		Message: "This invitation was withdrawn: the person who sent it may no longer grant it. Ask the organization to invite you again."}).
		With("reason", ReasonAuthorLostRight)
}

// diedWithAuthor refuses an invitation revoked with its author's right,
// and a pending one whose author may no longer grant it, in o as the
// acceptance reads it.
func diedWithAuthor(o *Organization, inv AuthoredInvitation, now time.Time) error {
	if inv.revokedFor() == ReasonAuthorLostRight || (inv.IsPending(now) && !o.MayGrant(inv.author(), inv.grants())) {
		return errAuthorLostRight()
	}
	return nil
}
