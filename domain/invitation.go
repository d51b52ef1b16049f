package domain

import (
	"encoding/json"
	"fmt"
	"strings"
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
	// Contact is absent from invitations sent before the invite form took
	// contact details, and when none was given.
	Contact *InvitationContact `json:"contact,omitempty"`
}

// InvitationContact is the partner's contact details from the invite form
// (seed 004's "Kontaktdaten"): personal data of the invited person, sealed
// with their key like the message. All three parts carry that owner, empty
// or not, so that once forgotten they all read alike.
type InvitationContact struct {
	Name    Personal `json:"name"`
	Company Personal `json:"company"`
	// Phone is in E.164 form, or empty.
	Phone Personal `json:"phone"`
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

// InvitationClaimNoticeSent: the person who last sent the invitation is
// told by email that an organization claimed it, so that a link that
// reached the wrong hands can be revoked. It is apart from InvitationClaimed
// because it touches the inviter alone: it names the invited email and the
// sender's, and nothing the claiming organization is shown may hold either.
type InvitationClaimNoticeSent struct {
	InvitationID          uuid.UUID `json:"invitation_id"`
	InviterOrganizationID uuid.UUID `json:"inviter_organization_id"`
	OrganizationID        uuid.UUID `json:"organization_id"`
	OrganizationName      string    `json:"organization_name"`
	SenderID              string    `json:"sender_id"`
	SenderEmail           Personal  `json:"sender_email"`
	Email                 Personal  `json:"email"`
	Locale                string    `json:"locale"`
}

// InvitationAnswerNoticeSent: the person who last sent the invitation is
// told by email that it was accepted or declined. Like the claim notice it
// touches the inviter alone: it names the invited email and the sender's,
// which the answering organization must never be shown.
type InvitationAnswerNoticeSent struct {
	InvitationID          uuid.UUID `json:"invitation_id"`
	InviterOrganizationID uuid.UUID `json:"inviter_organization_id"`
	OrganizationID        uuid.UUID `json:"organization_id"`
	OrganizationName      string    `json:"organization_name"`
	// Answer is accepted or declined.
	Answer      InvitationStatus `json:"answer"`
	SenderID    string           `json:"sender_id"`
	SenderEmail Personal         `json:"sender_email"`
	Email       Personal         `json:"email"`
	Locale      string           `json:"locale"`
}

// InvitationClaimDropped: the claiming organization declined. Only its
// claim ends: the invitation stays sent to its email, and another
// organization may claim it.
type InvitationClaimDropped struct {
	InvitationID          uuid.UUID `json:"invitation_id"`
	InviterOrganizationID uuid.UUID `json:"inviter_organization_id"`
	OrganizationID        uuid.UUID `json:"organization_id"`
	DroppedBy             string    `json:"dropped_by"`
	Reason                Personal  `json:"reason"`
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
	// Contact repeats the invitation's, for the greeting (absent when it
	// has none, and from resends stored before contacts existed).
	Contact *InvitationContact `json:"contact,omitempty"`
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

func (InvitationSent) EventType() string             { return "InvitationSent" }
func (InvitationClaimed) EventType() string          { return "InvitationClaimed" }
func (InvitationClaimNoticeSent) EventType() string  { return "InvitationClaimNoticeSent" }
func (InvitationAnswerNoticeSent) EventType() string { return "InvitationAnswerNoticeSent" }
func (InvitationClaimDropped) EventType() string     { return "InvitationClaimDropped" }
func (InvitationAccepted) EventType() string         { return "InvitationAccepted" }
func (InvitationDeclined) EventType() string         { return "InvitationDeclined" }
func (InvitationRevoked) EventType() string          { return "InvitationRevoked" }
func (InvitationResent) EventType() string           { return "InvitationResent" }
func (PartnershipEstablished) EventType() string     { return "PartnershipEstablished" }

func (e InvitationSent) OrganizationIDs() []uuid.UUID { return []uuid.UUID{e.InviterOrganizationID} }
func (e InvitationClaimed) OrganizationIDs() []uuid.UUID {
	return []uuid.UUID{e.InviterOrganizationID, e.OrganizationID}
}
func (e InvitationClaimNoticeSent) OrganizationIDs() []uuid.UUID {
	return []uuid.UUID{e.InviterOrganizationID}
}
func (e InvitationAnswerNoticeSent) OrganizationIDs() []uuid.UUID {
	return []uuid.UUID{e.InviterOrganizationID}
}
func (e InvitationClaimDropped) OrganizationIDs() []uuid.UUID {
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
	register(EventSpec{Version: 2, New: func() Event { return &InvitationSent{} },
		Upcast: map[int]func(json.RawMessage) (json.RawMessage, error){1: upcastInvitationSentV1}})
	register(EventSpec{New: func() Event { return &InvitationClaimed{} }})
	register(EventSpec{New: func() Event { return &InvitationClaimNoticeSent{} }})
	register(EventSpec{New: func() Event { return &InvitationAnswerNoticeSent{} }})
	register(EventSpec{New: func() Event { return &InvitationClaimDropped{} }})
	register(EventSpec{New: func() Event { return &InvitationAccepted{} }})
	register(EventSpec{New: func() Event { return &InvitationDeclined{} }})
	register(EventSpec{New: func() Event { return &InvitationRevoked{} }})
	register(EventSpec{New: func() Event { return &InvitationResent{} }})
	register(EventSpec{New: func() Event { return &PartnershipEstablished{} }})
}

// Invitation is the aggregate of one partner invitation. Its Status is
// sent, accepted, declined or revoked.
type Invitation struct {
	InvitationCore[InvitationStatus]
	InviterOrg  uuid.UUID
	InviterName string
	InviterSide Side
	InviteeSide Side
	Message     Personal
	Contact     *InvitationContact
	Locale      string
	ClaimedBy   uuid.UUID
	// SentBy is who last sent the invitation (InvitationSent or
	// InvitationResent): the one told of a claim. See ApplyRecorded.
	SentBy Sender
}

// Sender is the person who sent an invitation, as the event's metadata
// recorded them; the email is theirs, as personal data.
type Sender struct {
	UserID string
	Email  Personal
}

// Apply evolves the state by one event.
func (i *Invitation) Apply(e Event) {
	i.Version++
	switch e := e.(type) {
	case InvitationSent:
		*i = Invitation{InvitationCore: opened(e.InvitationID, e.Email, e.EmailRef, e.TokenHash, e.ExpiresAt, StatusSent, i.Version),
			InviterOrg: e.InviterOrganizationID, InviterName: e.InviterName, InviterSide: e.InviterSide,
			InviteeSide: e.InviteeSide, Message: e.Message, Contact: e.Contact, Locale: e.Locale}
	case InvitationClaimed:
		i.ClaimedBy = e.OrganizationID
	case InvitationClaimDropped:
		i.ClaimedBy = uuid.Nil
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

// ApplyRecorded evolves the state by one stored event and who caused it:
// the sender of InvitationSent and InvitationResent travels in the event's
// metadata, not in its payload, so Apply alone cannot keep it. An event
// without an actor keeps the sender known before.
func (i *Invitation) ApplyRecorded(e Event, actorID string, actorEmail Personal) {
	i.Apply(e)
	switch e.(type) {
	case InvitationSent, InvitationResent:
		if actorID != "" {
			i.SentBy = Sender{UserID: actorID, Email: actorEmail}
		}
	}
}

// What a partner invitation says to its invitee, and to its inviter (who
// may withdraw or resend it while it is pending or expired).
var (
	partnerAnswer = refusals{
		answered:  "This invitation was already answered (%s).",
		withdrawn: "This invitation was withdrawn by the organization that sent it.",
		expired:   "This invitation has expired. Ask the organization that sent it to resend it.",
		pending:   "A pending invitation to this email already exists. Resend it instead of inviting again.",
	}
	partnerInviter = refusals{answered: partnerAnswer.answered, withdrawn: "This invitation was already withdrawn."}
)

// AddressedTo reports whether an organization may answer the invitation,
// and how: it claimed it, or one of its owners or admins has the invited
// email, verified. A claim never takes the invitation away from its email:
// both may answer, and the first answer wins.
func (i *Invitation) AddressedTo(o *Organization) (bool, string) {
	if i.ClaimedBy != uuid.Nil && i.ClaimedBy == o.ID {
		return true, "claim"
	}
	if i.addressedByEmail(o) {
		return true, "email"
	}
	return false, ""
}

// addressedByEmail reports whether one of the organization's owners or
// admins has the invited email, verified.
func (i *Invitation) addressedByEmail(o *Organization) bool {
	for _, m := range o.Members {
		if (m.Role == RoleOwner || m.Role == RoleAdmin) && m.EmailVerified && m.Email.Owner == i.EmailRef {
			return true
		}
	}
	return false
}

// SendInvitation invites a partner by email (InviteSubcontractor from a
// client, InviteClient from a subcontractor).
type SendInvitation struct {
	TokenSend
	Message string
	// Contact is the partner's contact details, if any were given.
	Contact PartnerContact
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
		return nil, c.Pending.duplicate(partnerAnswer)
	}
	if len([]rune(c.Message)) > 2000 {
		return nil, Invalid("message", "must be at most 2000 characters")
	}
	return []Event{InvitationSent{
		InvitationID: c.InvitationID, InviterOrganizationID: inviter.ID, InviterName: inviter.Name,
		InviterSide: inviter.Side, InviteeSide: inviter.Side.Opposite(),
		Email: c.email(), EmailRef: c.EmailRef, Message: c.own(c.Message),
		TokenHash: c.TokenHash, ExpiresAt: c.expiresAt(), Locale: c.Locale, Contact: c.Contact.sealedFor(c.EmailRef),
	}}, nil
}

// PartnerContact is who the inviter knows at the partner, as typed on the
// invite form: every part optional. Build it with ParsePartnerContact.
type PartnerContact struct {
	Name    string
	Company string
	Phone   Phone
}

const contactMaxRunes = 200

// ParsePartnerContact reads the invite form's contact details; the fields
// it names are contact.name, contact.company and contact.phone. An empty
// phone is no phone.
func ParsePartnerContact(name, company, phone string) (PartnerContact, error) {
	var v Validation
	c := PartnerContact{
		Name:    ParseField(&v, "contact.name", name, func(s string) (string, error) { return cleanText("name", s, contactMaxRunes, false) }),
		Company: ParseField(&v, "contact.company", company, ParseCompany),
	}
	if strings.TrimSpace(phone) != "" {
		c.Phone = ParseField(&v, "contact.phone", phone, ParsePhone)
	}
	return c, v.Err()
}

// IsZero reports whether no contact detail was given.
func (c PartnerContact) IsZero() bool { return c.Name == "" && c.Company == "" && c.Phone.IsZero() }

// sealedFor is the contact as the event keeps it, owned by the invited
// person; nil when nothing was given.
func (c PartnerContact) sealedFor(owner PersonRef) *InvitationContact {
	if c.IsZero() {
		return nil
	}
	return &InvitationContact{Name: PersonalOf(owner, c.Name), Company: PersonalOf(owner, c.Company),
		Phone: PersonalOf(owner, c.Phone.String())}
}

// ClaimInvitation attaches an invitation to the claimer with its token.
type ClaimInvitation struct {
	Actor Actor
	Now   time.Time
}

// DecideClaimInvitation attaches an invitation to the claiming organization
// and tells the person who sent it. Claiming twice by the same
// organization changes nothing. A claim is exclusive, but never needed by
// the organization the invitation's email addresses: it answers as it is,
// whoever claimed.
func DecideClaimInvitation(inv *Invitation, claimer *Organization, c ClaimInvitation) ([]Event, error) {
	if err := claimer.Require(c.Actor, ActionInvitationsAnswer); err != nil {
		return nil, err
	}
	if claimer.ID == inv.InviterOrg {
		return nil, Errorf(CodeOwnInvitation, "An organization cannot answer its own invitation.")
	}
	if claimer.Side != inv.InviteeSide {
		return nil, sameSide(inv)
	}
	if err := inv.answerable(c.Now, partnerAnswer); err != nil {
		return nil, err
	}
	switch inv.ClaimedBy {
	case claimer.ID:
		return nil, nil
	case uuid.Nil:
	default:
		return nil, Errorf(CodeAlreadyClaimed, "Another organization already claimed this invitation.")
	}
	evs := []Event{InvitationClaimed{InvitationID: inv.ID, InviterOrganizationID: inv.InviterOrg,
		OrganizationID: claimer.ID, OrganizationName: claimer.Name, ClaimedBy: c.Actor.UserID, ClaimedByEmail: c.Actor.EmailPersonal()}}
	if to, ok := inv.sender(); ok {
		evs = append(evs, InvitationClaimNoticeSent{InvitationID: inv.ID, InviterOrganizationID: inv.InviterOrg,
			OrganizationID: claimer.ID, OrganizationName: claimer.Name, SenderID: to.UserID, SenderEmail: to.Email,
			Email: inv.Email, Locale: inv.Locale})
	}
	return evs, nil
}

// sender is whom a notice about the invitation goes to: who last sent it,
// unless unknown (an event without an actor) or forgotten.
func (i *Invitation) sender() (Sender, bool) {
	to := i.SentBy.Email
	return i.SentBy, to.Value != "" && !to.IsForgotten()
}

// answered is an answer followed by the notice that tells the invitation's
// sender, in its language, who answered and how.
func (i *Invitation) answered(answer Event, by *Organization, status InvitationStatus) []Event {
	to, ok := i.sender()
	if !ok {
		return []Event{answer}
	}
	return []Event{answer, InvitationAnswerNoticeSent{InvitationID: i.ID, InviterOrganizationID: i.InviterOrg,
		OrganizationID: by.ID, OrganizationName: by.Name, Answer: status, SenderID: to.UserID, SenderEmail: to.Email,
		Email: i.Email, Locale: i.Locale}}
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
	if err := inv.answerable(now, partnerAnswer); err != nil {
		return "", err
	}
	return via, nil
}

// AcceptInvitation is the addressed organization's yes.
type AcceptInvitation struct {
	// AlreadyPartners says the partnership of the pair exists already.
	AlreadyPartners bool
	Actor           Actor
	Now             time.Time
}

// DecideAcceptInvitation decides AcceptInvitation: the partnership is
// established at once, and the invitation's sender is told.
func DecideAcceptInvitation(inv *Invitation, accepter *Organization, c AcceptInvitation) ([]Event, error) {
	via, err := answering(inv, accepter, c.Actor, c.Now)
	if err != nil {
		return nil, err
	}
	if accepter.Side != inv.InviteeSide {
		return nil, sameSide(inv)
	}
	if c.AlreadyPartners {
		return nil, Errorf(CodeAlreadyPartners, "These two organizations are already partners.")
	}
	client, sub := inv.InviterOrg, accepter.ID
	if inv.InviterSide == SideSubcontractor {
		client, sub = accepter.ID, inv.InviterOrg
	}
	return inv.answered(InvitationAccepted{InvitationID: inv.ID, InviterOrganizationID: inv.InviterOrg, OrganizationID: accepter.ID,
		OrganizationName: accepter.Name, AcceptedBy: c.Actor.UserID, ClientID: client, SubcontractorID: sub, Via: via},
		accepter, StatusAccepted), nil
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

// DeclineInvitation is the addressed organization's no, with an optional
// reason.
type DeclineInvitation struct {
	Reason string
	Actor  Actor
	Now    time.Time
}

// DecideDeclineInvitation closes the invitation without a partnership, and
// tells its sender; the inviter may invite again later. A decline by an
// organization that only claimed it drops its claim: the invitation stays
// sent to its email, and nobody is told (nothing was answered).
func DecideDeclineInvitation(inv *Invitation, decliner *Organization, c DeclineInvitation) ([]Event, error) {
	via, err := answering(inv, decliner, c.Actor, c.Now)
	if err != nil {
		return nil, err
	}
	if len([]rune(c.Reason)) > 1000 {
		return nil, Invalid("c.Reason", "must be at most 1000 characters")
	}
	reason := c.Actor.EmailPersonal().withValue(c.Reason)
	if via == "claim" && !inv.addressedByEmail(decliner) {
		return []Event{InvitationClaimDropped{InvitationID: inv.ID, InviterOrganizationID: inv.InviterOrg,
			OrganizationID: decliner.ID, DroppedBy: c.Actor.UserID, Reason: reason}}, nil
	}
	return inv.answered(InvitationDeclined{InvitationID: inv.ID, InviterOrganizationID: inv.InviterOrg,
		OrganizationID: decliner.ID, DeclinedBy: c.Actor.UserID, Reason: reason}, decliner, StatusDeclined), nil
}

// inviterCheck is shared by revoke and resend: only the inviter's owners and
// admins, and only while the invitation is not answered or withdrawn.
func inviterCheck(inv *Invitation, inviter *Organization, actor Actor) error {
	if !inv.Exists() || inv.InviterOrg != inviter.ID {
		return ErrInvitationNotFound()
	}
	if err := requireOn(inviter, actor, ActionPartnersInvite); err != nil {
		return err
	}
	return inv.open(partnerInviter)
}

// RevokeInvitation withdraws an invitation, by its inviter.
type RevokeInvitation struct {
	Actor Actor
}

// DecideRevokeInvitation withdraws a pending (or expired) invitation.
func DecideRevokeInvitation(inv *Invitation, inviter *Organization, c RevokeInvitation) ([]Event, error) {
	if err := inviterCheck(inv, inviter, c.Actor); err != nil {
		return nil, err
	}
	return []Event{InvitationRevoked{InvitationID: inv.ID, InviterOrganizationID: inv.InviterOrg, RevokedBy: c.Actor.UserID}}, nil
}

// ResendInvitation gives an invitation a fresh token and expiry; an empty
// Locale keeps the invitation's.
type ResendInvitation struct {
	TokenHash string
	Locale    string
	Actor     Actor
	Now       time.Time
	TTL       time.Duration
}

// DecideResendInvitation gives a pending or expired invitation a fresh token
// and expiry (and a new email).
func DecideResendInvitation(inv *Invitation, inviter *Organization, c ResendInvitation) ([]Event, error) {
	if err := inviterCheck(inv, inviter, c.Actor); err != nil {
		return nil, err
	}
	locale := c.Locale
	if locale == "" {
		locale = inv.Locale
	}
	return []Event{InvitationResent{InvitationID: inv.ID, InviterOrganizationID: inv.InviterOrg,
		InviterName: inv.InviterName, InviterSide: inv.InviterSide, InviteeSide: inv.InviteeSide,
		Email: inv.Email, Message: inv.Message, Contact: inv.Contact,
		TokenHash: c.TokenHash, ExpiresAt: c.Now.Add(c.TTL).UTC(), Locale: locale}}, nil
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
