package domain

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// InvitationStreamType is the stream type of partner invitations.
const InvitationStreamType = "invitation"

// PartnershipStreamType is the stream type of partnerships.
const PartnershipStreamType = "partnership"

// InvitationStream is one partner invitation's stream.
func InvitationStream(id uuid.UUID) string { return "invitation-" + id.String() }

// PartnershipStream is the stream of the partnership between a client and a
// subcontractor: one stream per pair, so "one partnership per pair" is its
// "no stream yet" expectation.
func PartnershipStream(client, subcontractor uuid.UUID) string {
	return "partnership-" + client.String() + "-" + subcontractor.String()
}

// Invitation statuses, as the inviter's "Invitations sent" list shows them.
const (
	StatusSent     = "sent"
	StatusAccepted = "accepted"
	StatusDeclined = "declined"
	StatusRevoked  = "revoked"
	StatusExpired  = "expired"
)

// InvitationSent: an organization invited a partner by email.
type InvitationSent struct {
	InvitationID          uuid.UUID `json:"invitation_id"`
	InviterOrganizationID uuid.UUID `json:"inviter_organization_id"`
	InviterName           string    `json:"inviter_name"`
	InviterSide           Side      `json:"inviter_side"`
	InviteeSide           Side      `json:"invitee_side"`
	Email                 Personal  `json:"email"`
	EmailRef              PersonRef `json:"email_ref"`
	Message               Personal  `json:"message"`
	TokenHash             string    `json:"token_hash"`
	ExpiresAt             time.Time `json:"expires_at"`
	Locale                string    `json:"locale"`
}

// InvitationClaimed: an organization whose users signed up with another
// email attached the invitation to itself with the link's token.
type InvitationClaimed struct {
	InvitationID          uuid.UUID `json:"invitation_id"`
	InviterOrganizationID uuid.UUID `json:"inviter_organization_id"`
	OrganizationID        uuid.UUID `json:"organization_id"`
	OrganizationName      string    `json:"organization_name"`
	ClaimedBy             string    `json:"claimed_by"`
	ClaimedByEmail        Personal  `json:"claimed_by_email"`
}

// InvitationAccepted: the addressed organization accepted; the partnership
// exists from now on.
type InvitationAccepted struct {
	InvitationID          uuid.UUID `json:"invitation_id"`
	InviterOrganizationID uuid.UUID `json:"inviter_organization_id"`
	OrganizationID        uuid.UUID `json:"organization_id"`
	OrganizationName      string    `json:"organization_name"`
	AcceptedBy            string    `json:"accepted_by"`
	ClientID              uuid.UUID `json:"client_id"`
	SubcontractorID       uuid.UUID `json:"subcontractor_id"`
	// Via says how the invitation was addressed: "email" or "claim".
	Via string `json:"via"`
}

// InvitationDeclined: the addressed organization said no.
type InvitationDeclined struct {
	InvitationID          uuid.UUID `json:"invitation_id"`
	InviterOrganizationID uuid.UUID `json:"inviter_organization_id"`
	OrganizationID        uuid.UUID `json:"organization_id"`
	DeclinedBy            string    `json:"declined_by"`
	Reason                Personal  `json:"reason"`
}

// InvitationRevoked: the inviter withdrew the invitation.
type InvitationRevoked struct {
	InvitationID          uuid.UUID `json:"invitation_id"`
	InviterOrganizationID uuid.UUID `json:"inviter_organization_id"`
	RevokedBy             string    `json:"revoked_by"`
}

// InvitationResent: a fresh token and expiry; the old token stops working.
// It repeats what the new email shows.
type InvitationResent struct {
	InvitationID          uuid.UUID `json:"invitation_id"`
	InviterOrganizationID uuid.UUID `json:"inviter_organization_id"`
	InviterName           string    `json:"inviter_name"`
	InviterSide           Side      `json:"inviter_side"`
	InviteeSide           Side      `json:"invitee_side"`
	Email                 Personal  `json:"email"`
	Message               Personal  `json:"message"`
	TokenHash             string    `json:"token_hash"`
	ExpiresAt             time.Time `json:"expires_at"`
	Locale                string    `json:"locale"`
}

// PartnershipEstablished: a client and a subcontractor are partners, for
// good (a partnership is never ended).
type PartnershipEstablished struct {
	ClientID           uuid.UUID `json:"client_id"`
	ClientName         string    `json:"client_name"`
	ClientSiret        string    `json:"client_siret,omitempty"`
	SubcontractorID    uuid.UUID `json:"subcontractor_id"`
	SubcontractorName  string    `json:"subcontractor_name"`
	SubcontractorSiret string    `json:"subcontractor_siret,omitempty"`
	InvitationID       uuid.UUID `json:"invitation_id"`
}

func (InvitationSent) EventType() string         { return "InvitationSent" }
func (InvitationClaimed) EventType() string      { return "InvitationClaimed" }
func (InvitationAccepted) EventType() string     { return "InvitationAccepted" }
func (InvitationDeclined) EventType() string     { return "InvitationDeclined" }
func (InvitationRevoked) EventType() string      { return "InvitationRevoked" }
func (InvitationResent) EventType() string       { return "InvitationResent" }
func (PartnershipEstablished) EventType() string { return "PartnershipEstablished" }

func (e InvitationSent) OrganizationIDs() []uuid.UUID { return []uuid.UUID{e.InviterOrganizationID} }
func (e InvitationClaimed) OrganizationIDs() []uuid.UUID {
	return []uuid.UUID{e.InviterOrganizationID, e.OrganizationID}
}
func (e InvitationAccepted) OrganizationIDs() []uuid.UUID {
	return []uuid.UUID{e.InviterOrganizationID, e.OrganizationID}
}
func (e InvitationDeclined) OrganizationIDs() []uuid.UUID {
	return []uuid.UUID{e.InviterOrganizationID, e.OrganizationID}
}
func (e InvitationRevoked) OrganizationIDs() []uuid.UUID { return []uuid.UUID{e.InviterOrganizationID} }
func (e InvitationResent) OrganizationIDs() []uuid.UUID  { return []uuid.UUID{e.InviterOrganizationID} }
func (e PartnershipEstablished) OrganizationIDs() []uuid.UUID {
	return []uuid.UUID{e.ClientID, e.SubcontractorID}
}

func init() {
	register(EventSpec{Type: "InvitationSent", Version: 2, New: func() Event { return &InvitationSent{} },
		Upcast: map[int]func(json.RawMessage) (json.RawMessage, error){1: upcastInvitationSentV1}})
	register(EventSpec{Type: "InvitationClaimed", New: func() Event { return &InvitationClaimed{} }})
	register(EventSpec{Type: "InvitationAccepted", New: func() Event { return &InvitationAccepted{} }})
	register(EventSpec{Type: "InvitationDeclined", New: func() Event { return &InvitationDeclined{} }})
	register(EventSpec{Type: "InvitationRevoked", New: func() Event { return &InvitationRevoked{} }})
	register(EventSpec{Type: "InvitationResent", New: func() Event { return &InvitationResent{} }})
	register(EventSpec{Type: "PartnershipEstablished", New: func() Event { return &PartnershipEstablished{} }})
}

// Invitation is the aggregate of one partner invitation.
type Invitation struct {
	ID          uuid.UUID
	InviterOrg  uuid.UUID
	InviterName string
	InviterSide Side
	InviteeSide Side
	Email       Personal
	EmailRef    PersonRef
	Message     Personal
	TokenHash   string
	ExpiresAt   time.Time
	Locale      string
	// Status is the stored status: sent, accepted, declined or revoked.
	// Expiry is derived (StatusAt).
	Status    string
	ClaimedBy uuid.UUID
	Version   int
}

// Exists reports whether the invitation was sent.
func (i *Invitation) Exists() bool { return i.ID != uuid.Nil }

// Apply evolves the state by one event.
func (i *Invitation) Apply(e Event) {
	i.Version++
	switch e := e.(type) {
	case InvitationSent:
		*i = Invitation{ID: e.InvitationID, InviterOrg: e.InviterOrganizationID, InviterName: e.InviterName,
			InviterSide: e.InviterSide, InviteeSide: e.InviteeSide, Email: e.Email, EmailRef: e.EmailRef, Message: e.Message,
			TokenHash: e.TokenHash, ExpiresAt: e.ExpiresAt, Locale: e.Locale, Status: StatusSent, Version: i.Version}
	case InvitationClaimed:
		i.ClaimedBy = e.OrganizationID
	case InvitationAccepted:
		i.Status = StatusAccepted
	case InvitationDeclined:
		i.Status = StatusDeclined
	case InvitationRevoked:
		i.Status = StatusRevoked
	case InvitationResent:
		i.TokenHash, i.ExpiresAt, i.Locale = e.TokenHash, e.ExpiresAt, e.Locale
	}
}

// StatusAt is the status as everyone sees it at an instant: a pending
// invitation past its expiry is expired, without any event.
func (i *Invitation) StatusAt(now time.Time) string {
	if i.Status == StatusSent && !now.Before(i.ExpiresAt) {
		return StatusExpired
	}
	return i.Status
}

// IsPending reports whether the invitation still waits for an answer.
func (i *Invitation) IsPending(now time.Time) bool { return i.StatusAt(now) == StatusSent }

// ErrInvitationNotFound is what anyone who may not see an invitation learns.
func ErrInvitationNotFound() *Error { return Errorf(CodeNotFound, "No such invitation.") }

// answerable refuses an invitation that can no longer be answered.
func (i *Invitation) answerable(now time.Time) error {
	switch i.StatusAt(now) {
	case StatusAccepted, StatusDeclined:
		return (&Error{Code: CodeInvitationAnswered, Message: "This invitation was already answered (" + i.Status + ")."}).With("status", i.Status)
	case StatusRevoked:
		return Errorf(CodeInvitationRevoked, "This invitation was withdrawn by the organization that sent it.")
	case StatusExpired:
		return (&Error{Code: CodeInvitationExpired, Message: "This invitation has expired. Ask the organization that sent it to resend it."}).
			With("expired_at", i.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return nil
}

// AddressedTo reports whether an organization may answer the invitation:
// it claimed it, or (unclaimed) one of its owners or admins has the invited
// email, verified.
func (i *Invitation) AddressedTo(o *Organization) (bool, string) {
	if i.ClaimedBy != uuid.Nil {
		return i.ClaimedBy == o.ID, "claim"
	}
	for _, m := range o.Members {
		if (m.Role == RoleOwner || m.Role == RoleAdmin) && m.EmailVerified && m.Email.Owner == i.EmailRef {
			return true, "email"
		}
	}
	return false, ""
}

// SendInvitation invites a partner by email (InviteSubcontractor from a
// client, InviteClient from a subcontractor).
type SendInvitation struct {
	InvitationID uuid.UUID
	Email        Email
	EmailRef     PersonRef
	Message      string
	TokenHash    string
	Locale       string
	Actor        Actor
	Now          time.Time
	TTL          time.Duration
	// Pending is the invitation that holds this organization's pending slot
	// for the email, if any.
	Pending *Invitation
}

// DecideSendInvitation decides InviteSubcontractor / InviteClient.
func DecideSendInvitation(inviter *Organization, c SendInvitation) ([]Event, error) {
	if err := inviter.Require(c.Actor, ActionPartnersInvite); err != nil {
		return nil, err
	}
	if c.Pending != nil && c.Pending.IsPending(c.Now) {
		return nil, (&Error{Code: CodeDuplicatePending,
			Message: "A pending invitation to this email already exists. Resend it instead of inviting again."}).
			With("pending_invitation_id", c.Pending.ID.String())
	}
	if len([]rune(c.Message)) > 2000 {
		return nil, Invalid("message", "must be at most 2000 characters")
	}
	return []Event{InvitationSent{
		InvitationID: c.InvitationID, InviterOrganizationID: inviter.ID, InviterName: inviter.Name,
		InviterSide: inviter.Side, InviteeSide: inviter.Side.Opposite(),
		Email: PersonalOf(c.EmailRef, c.Email.String()), EmailRef: c.EmailRef, Message: PersonalOf(c.EmailRef, c.Message),
		TokenHash: c.TokenHash, ExpiresAt: c.Now.Add(c.TTL).UTC(), Locale: c.Locale,
	}}, nil
}

// DecideClaimInvitation attaches an invitation to the claiming organization.
// Claiming twice by the same organization changes nothing.
func DecideClaimInvitation(inv *Invitation, claimer *Organization, actor Actor, now time.Time) ([]Event, error) {
	if err := claimer.Require(actor, ActionInvitationsAnswer); err != nil {
		return nil, err
	}
	if claimer.ID == inv.InviterOrg {
		return nil, Errorf(CodeOwnInvitation, "An organization cannot answer its own invitation.")
	}
	if claimer.Side != inv.InviteeSide {
		return nil, sameSide(inv)
	}
	if err := inv.answerable(now); err != nil {
		return nil, err
	}
	switch inv.ClaimedBy {
	case claimer.ID:
		return nil, nil
	case uuid.Nil:
	default:
		return nil, Errorf(CodeAlreadyClaimed, "Another organization already claimed this invitation.")
	}
	return []Event{InvitationClaimed{InvitationID: inv.ID, InviterOrganizationID: inv.InviterOrg,
		OrganizationID: claimer.ID, OrganizationName: claimer.Name, ClaimedBy: actor.UserID, ClaimedByEmail: actor.EmailPersonal()}}, nil
}

func sameSide(inv *Invitation) *Error {
	return (&Error{Code: CodeSameSide, Message: "A " + inv.InviterSide.String() + " can only connect with a " +
		inv.InviteeSide.String() + ", not with another " + inv.InviterSide.String() + "."}).
		With("inviter_side", inv.InviterSide.String())
}

// answering runs the checks shared by accept and decline, in the order a
// support agent would explain them.
func answering(inv *Invitation, org *Organization, actor Actor, now time.Time) (string, error) {
	if err := org.Require(actor, ActionInvitationsAnswer); err != nil {
		return "", err
	}
	if !inv.Exists() {
		return "", ErrInvitationNotFound()
	}
	if org.ID == inv.InviterOrg {
		return "", Errorf(CodeOwnInvitation, "An organization cannot answer its own invitation.")
	}
	ok, via := inv.AddressedTo(org)
	if !ok {
		return "", ErrInvitationNotFound()
	}
	if err := inv.answerable(now); err != nil {
		return "", err
	}
	return via, nil
}

// DecideAcceptInvitation decides AcceptInvitation: the partnership is
// established at once.
func DecideAcceptInvitation(inv *Invitation, accepter *Organization, alreadyPartners bool, actor Actor, now time.Time) ([]Event, error) {
	via, err := answering(inv, accepter, actor, now)
	if err != nil {
		return nil, err
	}
	if accepter.Side != inv.InviteeSide {
		return nil, sameSide(inv)
	}
	if alreadyPartners {
		return nil, Errorf(CodeAlreadyPartners, "These two organizations are already partners.")
	}
	client, sub := inv.InviterOrg, accepter.ID
	if inv.InviterSide == SideSubcontractor {
		client, sub = accepter.ID, inv.InviterOrg
	}
	return []Event{
		InvitationAccepted{InvitationID: inv.ID, InviterOrganizationID: inv.InviterOrg, OrganizationID: accepter.ID,
			OrganizationName: accepter.Name, AcceptedBy: actor.UserID, ClientID: client, SubcontractorID: sub, Via: via},
	}, nil
}

// Partnership builds the partnership event of an accepted invitation, from
// both organizations' states.
func Partnership(inv *Invitation, inviter, accepter *Organization) PartnershipEstablished {
	client, sub := inviter, accepter
	if inv.InviterSide == SideSubcontractor {
		client, sub = accepter, inviter
	}
	return PartnershipEstablished{ClientID: client.ID, ClientName: client.Name, ClientSiret: client.Siret,
		SubcontractorID: sub.ID, SubcontractorName: sub.Name, SubcontractorSiret: sub.Siret, InvitationID: inv.ID}
}

// DecideDeclineInvitation closes the invitation without a partnership; the
// inviter may invite again later.
func DecideDeclineInvitation(inv *Invitation, decliner *Organization, reason string, actor Actor, now time.Time) ([]Event, error) {
	if _, err := answering(inv, decliner, actor, now); err != nil {
		return nil, err
	}
	if len([]rune(reason)) > 1000 {
		return nil, Invalid("reason", "must be at most 1000 characters")
	}
	return []Event{InvitationDeclined{InvitationID: inv.ID, InviterOrganizationID: inv.InviterOrg,
		OrganizationID: decliner.ID, DeclinedBy: actor.UserID, Reason: actor.EmailPersonal().withValue(reason)}}, nil
}

// inviterCheck is shared by revoke and resend: only the inviter's owners and
// admins, and only while the invitation is not answered or withdrawn.
func inviterCheck(inv *Invitation, inviter *Organization, actor Actor) error {
	if !inv.Exists() || inv.InviterOrg != inviter.ID {
		return ErrInvitationNotFound()
	}
	if err := inviter.Require(actor, ActionPartnersInvite); err != nil {
		return err
	}
	switch inv.Status {
	case StatusAccepted, StatusDeclined:
		return (&Error{Code: CodeInvitationAnswered, Message: "This invitation was already answered (" + inv.Status + ")."}).With("status", inv.Status)
	case StatusRevoked:
		return Errorf(CodeInvitationRevoked, "This invitation was already withdrawn.")
	}
	return nil
}

// DecideRevokeInvitation withdraws a pending (or expired) invitation.
func DecideRevokeInvitation(inv *Invitation, inviter *Organization, actor Actor) ([]Event, error) {
	if err := inviterCheck(inv, inviter, actor); err != nil {
		return nil, err
	}
	return []Event{InvitationRevoked{InvitationID: inv.ID, InviterOrganizationID: inv.InviterOrg, RevokedBy: actor.UserID}}, nil
}

// DecideResendInvitation gives a pending or expired invitation a fresh token
// and expiry (and a new email).
func DecideResendInvitation(inv *Invitation, inviter *Organization, tokenHash, locale string, actor Actor, now time.Time, ttl time.Duration) ([]Event, error) {
	if err := inviterCheck(inv, inviter, actor); err != nil {
		return nil, err
	}
	if locale == "" {
		locale = inv.Locale
	}
	return []Event{InvitationResent{InvitationID: inv.ID, InviterOrganizationID: inv.InviterOrg,
		InviterName: inv.InviterName, InviterSide: inv.InviterSide, InviteeSide: inv.InviteeSide,
		Email: inv.Email, Message: inv.Message,
		TokenHash: tokenHash, ExpiresAt: now.Add(ttl).UTC(), Locale: locale}}, nil
}

// upcastInvitationSentV1 reads the first version of InvitationSent, which
// did not record the invitee's side: it is always the opposite of the
// inviter's (a client invites subcontractors and the reverse).
func upcastInvitationSentV1(payload json.RawMessage) (json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(payload, &m); err != nil {
		return nil, err
	}
	if _, ok := m["invitee_side"]; !ok {
		var inviter string
		if err := json.Unmarshal(m["inviter_side"], &inviter); err != nil {
			return nil, fmt.Errorf("inviter_side: %w", err)
		}
		side, err := ParseSide(inviter)
		if err != nil {
			return nil, err
		}
		m["invitee_side"], _ = json.Marshal(side.Opposite().String())
	}
	return json.Marshal(m)
}
