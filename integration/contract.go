package integration

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"partners/domain"
	"partners/eventstore"
)

// Message is one public event as it travels to one organization: the
// JetStream message's payload. Its schema is the event's (Schema).
type Message struct {
	// ID is "<event id>:<organization id>", also the JetStream message id
	// (Nats-Msg-Id): a re-send of the same message is dropped by the
	// stream's de-duplication.
	ID             string    `json:"id"`
	EventID        uuid.UUID `json:"event_id"`
	Type           string    `json:"type"`
	OrganizationID uuid.UUID `json:"organization_id"`
	OccurredAt     time.Time `json:"occurred_at"`
	// Position is the event's place in the service's log: a consumer may
	// ask the API for what it wants with min_position set to it.
	Position int64           `json:"position"`
	Data     json.RawMessage `json:"data"`
}

// SubjectPrefix starts every subject: partners.<organization>.<event>.
const SubjectPrefix = "partners."

// Subject is where a message is published: partners.<organization>.<event
// name without its "partners." prefix>, so that a consumer subscribes to
// one organization (partners.<id>.>) or one event everywhere
// (partners.*.partnership.established.v1).
func Subject(org uuid.UUID, eventName string) string {
	return SubjectPrefix + org.String() + "." + strings.TrimPrefix(eventName, SubjectPrefix)
}

// Subject of the message.
func (m Message) Subject() string { return Subject(m.OrganizationID, m.Type) }

// MessageID is the message id of an event's message to an organization.
func MessageID(eventID, org uuid.UUID) string { return eventID.String() + ":" + org.String() }

// PublicEvent is one entry of the contract.
type PublicEvent struct {
	// Name is stable and versioned: a change that a v1 consumer could not
	// read is a new name (….v2), published beside the old one for a while.
	Name    string
	Summary string
	// From names the internal events it is made from (documentation).
	From []string
	// data is a zero value of the data's Go type: the schema is built from
	// its fields.
	data any
}

// Person refs are the keyed hashes that name persons (never their email):
// what a consumer may keep to recognize a person across events, and ask the
// API about. User ids are the identity provider's opaque subjects.

// OrganizationCreatedV1 is partners.organization.created.v1.
type OrganizationCreatedV1 struct {
	OrganizationID uuid.UUID `json:"organization_id"`
	Side           string    `json:"side" enum:"client,subcontractor"`
}

// InvitationSentV1 is partners.invitation.sent.v1.
type InvitationSentV1 struct {
	InvitationID          uuid.UUID `json:"invitation_id"`
	InviterOrganizationID uuid.UUID `json:"inviter_organization_id"`
	InviterSide           string    `json:"inviter_side" enum:"client,subcontractor"`
	InviteeSide           string    `json:"invitee_side" enum:"client,subcontractor"`
	EmailRef              *string   `json:"email_ref" desc:"person ref of the invited email"`
	ExpiresAt             time.Time `json:"expires_at"`
}

// InvitationClaimedV1 is partners.invitation.claimed.v1.
type InvitationClaimedV1 struct {
	InvitationID          uuid.UUID `json:"invitation_id"`
	InviterOrganizationID uuid.UUID `json:"inviter_organization_id"`
	OrganizationID        uuid.UUID `json:"organization_id" desc:"the claiming organization"`
	ClaimedBy             string    `json:"claimed_by" desc:"user id"`
	ClaimedByRef          *string   `json:"claimed_by_ref" desc:"person ref of the claiming user"`
}

// InvitationAcceptedV1 is partners.invitation.accepted.v1.
type InvitationAcceptedV1 struct {
	InvitationID          uuid.UUID `json:"invitation_id"`
	InviterOrganizationID uuid.UUID `json:"inviter_organization_id"`
	OrganizationID        uuid.UUID `json:"organization_id" desc:"the accepting organization"`
	AcceptedBy            string    `json:"accepted_by" desc:"user id"`
	ClientID              uuid.UUID `json:"client_id"`
	SubcontractorID       uuid.UUID `json:"subcontractor_id"`
	Via                   string    `json:"via" enum:"email,claim"`
}

// InvitationDeclinedV1 is partners.invitation.declined.v1.
type InvitationDeclinedV1 struct {
	InvitationID          uuid.UUID `json:"invitation_id"`
	InviterOrganizationID uuid.UUID `json:"inviter_organization_id"`
	OrganizationID        uuid.UUID `json:"organization_id" desc:"the declining organization"`
	DeclinedBy            string    `json:"declined_by" desc:"user id"`
	ClaimDropped          bool      `json:"claim_dropped" desc:"true when the claiming organization declined: only its claim ends, the invitation stays sent to its email"`
}

// InvitationRevokedV1 is partners.invitation.revoked.v1.
type InvitationRevokedV1 struct {
	InvitationID          uuid.UUID `json:"invitation_id"`
	InviterOrganizationID uuid.UUID `json:"inviter_organization_id"`
	RevokedBy             string    `json:"revoked_by" desc:"user id"`
}

// InvitationResentV1 is partners.invitation.resent.v1.
type InvitationResentV1 struct {
	InvitationID          uuid.UUID `json:"invitation_id"`
	InviterOrganizationID uuid.UUID `json:"inviter_organization_id"`
	EmailRef              *string   `json:"email_ref" desc:"person ref of the invited email"`
	ExpiresAt             time.Time `json:"expires_at"`
}

// PartnershipEstablishedV1 is partners.partnership.established.v1, sent to
// both organizations.
type PartnershipEstablishedV1 struct {
	ClientID        uuid.UUID `json:"client_id"`
	SubcontractorID uuid.UUID `json:"subcontractor_id"`
	InvitationID    uuid.UUID `json:"invitation_id"`
}

// MemberJoinedV1 is partners.member.joined.v1: a colleague, an accountant
// or a collaborator joined, with the role.
type MemberJoinedV1 struct {
	OrganizationID  uuid.UUID  `json:"organization_id"`
	UserID          string     `json:"user_id"`
	PersonRef       *string    `json:"person_ref" desc:"person ref of the member's email"`
	Role            string     `json:"role" enum:"owner,admin,member,accountant,collaborator"`
	EmailVerified   bool       `json:"email_verified"`
	CanPurchase     bool       `json:"can_purchase" desc:"collaborators only"`
	CanSeeAllOrders bool       `json:"can_see_all_orders" desc:"collaborators only"`
	Via             string     `json:"via" enum:"creation,member_invitation,accountant_invitation,collaborator_activation,collaboration_request"`
	InvitationID    *uuid.UUID `json:"invitation_id"`
}

// MemberRoleChangedV1 is partners.member.role_changed.v1.
type MemberRoleChangedV1 struct {
	OrganizationID uuid.UUID `json:"organization_id"`
	UserID         string    `json:"user_id"`
	PersonRef      *string   `json:"person_ref"`
	Role           string    `json:"role" enum:"owner,admin,member"`
	PreviousRole   string    `json:"previous_role" enum:"owner,admin,member"`
	ChangedBy      string    `json:"changed_by" desc:"user id"`
}

// MemberRemovedV1 is partners.member.removed.v1: a colleague removed, an
// accountant's access revoked, a collaborator detached; Role is the role
// they had.
type MemberRemovedV1 struct {
	OrganizationID uuid.UUID `json:"organization_id"`
	UserID         string    `json:"user_id"`
	Role           string    `json:"role" enum:"owner,admin,member,accountant,collaborator"`
	RemovedBy      string    `json:"removed_by" desc:"user id"`
}

// CollaboratorPermissionsChangedV1 is
// partners.collaborator.permissions_changed.v1: the two flags as they are
// from now on.
type CollaboratorPermissionsChangedV1 struct {
	OrganizationID  uuid.UUID `json:"organization_id"`
	UserID          string    `json:"user_id"`
	CanPurchase     bool      `json:"can_purchase"`
	CanSeeAllOrders bool      `json:"can_see_all_orders"`
	ChangedBy       string    `json:"changed_by" desc:"user id"`
}

// PortalRecipientV1 is a portal user a contract is shared with.
type PortalRecipientV1 struct {
	PortalUserID uuid.UUID `json:"portal_user_id"`
	PersonRef    *string   `json:"person_ref" desc:"person ref of the portal user's email"`
}

// ContractSharedV1 is partners.contract.shared.v1.
type ContractSharedV1 struct {
	OrganizationID     uuid.UUID           `json:"organization_id"`
	ContractID         string              `json:"contract_id" desc:"the caller's contract id"`
	Requester          PortalRecipientV1   `json:"requester"`
	Watchers           []PortalRecipientV1 `json:"watchers"`
	AttachmentsVisible bool                `json:"attachments_visible"`
}

// ContractWatcherAddedV1 is partners.contract.watcher_added.v1.
type ContractWatcherAddedV1 struct {
	OrganizationID uuid.UUID         `json:"organization_id"`
	ContractID     string            `json:"contract_id"`
	Watcher        PortalRecipientV1 `json:"watcher"`
}

// ContractWatcherRemovedV1 is partners.contract.watcher_removed.v1.
type ContractWatcherRemovedV1 struct {
	OrganizationID uuid.UUID `json:"organization_id"`
	ContractID     string    `json:"contract_id"`
	PortalUserID   uuid.UUID `json:"portal_user_id"`
	Reason         *string   `json:"reason" enum:"company_mismatch" desc:"null when removed by the organization; company_mismatch when the watcher's company no longer matches the requester's"`
}

// ContractAttachmentsChangedV1 is partners.contract.attachments_changed.v1.
type ContractAttachmentsChangedV1 struct {
	OrganizationID     uuid.UUID `json:"organization_id"`
	ContractID         string    `json:"contract_id"`
	AttachmentsVisible bool      `json:"attachments_visible"`
}

// ContractWithdrawnV1 is partners.contract.withdrawn.v1.
type ContractWithdrawnV1 struct {
	OrganizationID uuid.UUID `json:"organization_id"`
	ContractID     string    `json:"contract_id"`
}

// PersonForgottenV1 is partners.person.forgotten.v1, sent to every
// organization whose events named the person. Nothing is asked of a
// consumer: no public event ever held the person's data.
type PersonForgottenV1 struct {
	PersonRef string `json:"person_ref"`
}

// Events is the contract, in the AsyncAPI document's order.
var Events = []PublicEvent{
	{Name: "partners.organization.created.v1", Summary: "An organization (company account) was opened", From: []string{"OrganizationCreated"}, data: OrganizationCreatedV1{}},
	{Name: "partners.invitation.sent.v1", Summary: "An organization invited a partner by email", From: []string{"InvitationSent"}, data: InvitationSentV1{}},
	{Name: "partners.invitation.claimed.v1", Summary: "An organization claimed an invitation with its link", From: []string{"InvitationClaimed"}, data: InvitationClaimedV1{}},
	{Name: "partners.invitation.accepted.v1", Summary: "The addressed organization accepted an invitation", From: []string{"InvitationAccepted"}, data: InvitationAcceptedV1{}},
	{Name: "partners.invitation.declined.v1", Summary: "The addressed organization declined, or the claiming one dropped its claim", From: []string{"InvitationDeclined", "InvitationClaimDropped"}, data: InvitationDeclinedV1{}},
	{Name: "partners.invitation.revoked.v1", Summary: "The inviter withdrew an invitation", From: []string{"InvitationRevoked"}, data: InvitationRevokedV1{}},
	{Name: "partners.invitation.resent.v1", Summary: "An invitation was sent again with a fresh link and expiry", From: []string{"InvitationResent"}, data: InvitationResentV1{}},
	{Name: "partners.partnership.established.v1", Summary: "A client and a subcontractor are partners (sent to both)", From: []string{"PartnershipEstablished"}, data: PartnershipEstablishedV1{}},
	{Name: "partners.member.joined.v1", Summary: "A colleague, accountant or collaborator joined an organization", From: []string{"MemberJoined"}, data: MemberJoinedV1{}},
	{Name: "partners.member.role_changed.v1", Summary: "A colleague's role changed", From: []string{"MemberRoleChanged"}, data: MemberRoleChangedV1{}},
	{Name: "partners.member.removed.v1", Summary: "A colleague was removed, an accountant's access revoked or a collaborator detached", From: []string{"MemberRemoved", "AccountantAccessRevoked", "CollaboratorRemoved"}, data: MemberRemovedV1{}},
	{Name: "partners.collaborator.permissions_changed.v1", Summary: "A collaborator's two permissions changed", From: []string{"CollaboratorPermissionsChanged"}, data: CollaboratorPermissionsChangedV1{}},
	{Name: "partners.contract.shared.v1", Summary: "A contract was shown in the client portal to a requester and watchers", From: []string{"ContractShown"}, data: ContractSharedV1{}},
	{Name: "partners.contract.watcher_added.v1", Summary: "A watcher was added to a shared contract", From: []string{"WatcherAdded"}, data: ContractWatcherAddedV1{}},
	{Name: "partners.contract.watcher_removed.v1", Summary: "A watcher lost access to a shared contract, with the reason", From: []string{"WatcherRemoved", "WatcherAccessWithdrawn"}, data: ContractWatcherRemovedV1{}},
	{Name: "partners.contract.attachments_changed.v1", Summary: "The switch that shows all a contract's attachments changed", From: []string{"AttachmentsVisibilityChanged"}, data: ContractAttachmentsChangedV1{}},
	{Name: "partners.contract.withdrawn.v1", Summary: "A contract was withdrawn from the portal", From: []string{"ContractWithdrawn"}, data: ContractWithdrawnV1{}},
	{Name: "partners.person.forgotten.v1", Summary: "A person was forgotten (their ref only)", From: []string{"PersonForgotten"}, data: PersonForgottenV1{}},
}

// Internal lists the internal events no public event is made from, and
// why: a new internal event must be put in one list or the other (a test
// checks it).
var Internal = map[string]string{
	"InvitationClaimNoticeSent":     "an email to the inviter",
	"InvitationAnswerNoticeSent":    "an email to the inviter",
	"MemberEmailChanged":            "personal data only (the new email's ref follows in later events)",
	"PortalUserCreated":             "a portal user's personal data",
	"PortalUserRenamed":             "a portal user's personal data",
	"PortalUserCompanyChanged":      "free text; a watcher it cuts off gets its own watcher_removed",
	"ContractRetitled":              "the caller's own title",
	"RequesterChanged":              "not in the contract yet",
	"MemberInvitationSent":          "team invitations are not in the contract yet; the joining is",
	"MemberInvitationAccepted":      "followed by MemberJoined",
	"MemberInvitationRevoked":       "team invitations are not in the contract yet",
	"AccountantInvitationSent":      "team invitations are not in the contract yet; the joining is",
	"AccountantInvitationAccepted":  "followed by MemberJoined",
	"AccountantInvitationRevoked":   "team invitations are not in the contract yet",
	"CollaboratorInvited":           "a collaborator's personal data; the joining is in the contract",
	"CollaboratorInvitationResent":  "an email",
	"CollaboratorInvitationRevoked": "team invitations are not in the contract yet",
	"CollaboratorActivated":         "followed by MemberJoined",
	"CollaborationRequested":        "touches no organization until approved",
	"CollaborationRequestApproved":  "followed by MemberJoined",
	"CollaborationRequestRejected":  "not in the contract yet",
}

// EventByName returns the contract's entry of a public event.
func EventByName(name string) (PublicEvent, bool) {
	for _, e := range Events {
		if e.Name == name {
			return e, true
		}
	}
	return PublicEvent{}, false
}

// refOf is the person ref of a personal value, nil when it names nobody.
func refOf(p domain.Personal) *string {
	if p.Owner == "" {
		return nil
	}
	s := string(p.Owner)
	return &s
}

func refString(r domain.PersonRef) *string {
	if r == "" {
		return nil
	}
	s := string(r)
	return &s
}

func recipient(r domain.PortalRecipient) PortalRecipientV1 {
	return PortalRecipientV1{PortalUserID: r.PortalUserID, PersonRef: refOf(r.Email)}
}

// public turns an internal event into its public name and data; ok is false
// for an internal-only event.
func public(ev domain.Event) (name string, data any, ok bool) {
	switch e := ev.(type) {
	case domain.OrganizationCreated:
		return "partners.organization.created.v1", OrganizationCreatedV1{e.OrganizationID, e.Side.String()}, true
	case domain.InvitationSent:
		return "partners.invitation.sent.v1", InvitationSentV1{e.InvitationID, e.InviterOrganizationID, e.InviterSide.String(),
			e.InviteeSide.String(), refString(e.EmailRef), e.ExpiresAt.UTC()}, true
	case domain.InvitationClaimed:
		return "partners.invitation.claimed.v1", InvitationClaimedV1{e.InvitationID, e.InviterOrganizationID, e.OrganizationID,
			e.ClaimedBy, refOf(e.ClaimedByEmail)}, true
	case domain.InvitationAccepted:
		return "partners.invitation.accepted.v1", InvitationAcceptedV1{e.InvitationID, e.InviterOrganizationID, e.OrganizationID,
			e.AcceptedBy, e.ClientID, e.SubcontractorID, e.Via}, true
	case domain.InvitationDeclined:
		return "partners.invitation.declined.v1", InvitationDeclinedV1{e.InvitationID, e.InviterOrganizationID, e.OrganizationID, e.DeclinedBy, false}, true
	case domain.InvitationClaimDropped:
		return "partners.invitation.declined.v1", InvitationDeclinedV1{e.InvitationID, e.InviterOrganizationID, e.OrganizationID, e.DroppedBy, true}, true
	case domain.InvitationRevoked:
		return "partners.invitation.revoked.v1", InvitationRevokedV1{e.InvitationID, e.InviterOrganizationID, e.RevokedBy}, true
	case domain.InvitationResent:
		return "partners.invitation.resent.v1", InvitationResentV1{e.InvitationID, e.InviterOrganizationID, refOf(e.Email), e.ExpiresAt.UTC()}, true
	case domain.PartnershipEstablished:
		return "partners.partnership.established.v1", PartnershipEstablishedV1{e.ClientID, e.SubcontractorID, e.InvitationID}, true
	case domain.MemberJoined:
		return "partners.member.joined.v1", MemberJoinedV1{e.OrganizationID, e.UserID, refOf(e.Email), e.Role.String(), e.EmailVerified,
			e.CanPurchase, e.CanSeeAllOrders, e.Via, e.InvitationID}, true
	case domain.MemberRoleChanged:
		return "partners.member.role_changed.v1", MemberRoleChangedV1{e.OrganizationID, e.UserID, refString(e.EmailRef), e.Role.String(),
			e.PreviousRole.String(), e.ChangedBy}, true
	case domain.MemberRemoved:
		return "partners.member.removed.v1", MemberRemovedV1{e.OrganizationID, e.UserID, e.Role.String(), e.RemovedBy}, true
	case domain.AccountantAccessRevoked:
		return "partners.member.removed.v1", MemberRemovedV1{e.OrganizationID, e.UserID, domain.RoleAccountant.String(), e.RevokedBy}, true
	case domain.CollaboratorRemoved:
		return "partners.member.removed.v1", MemberRemovedV1{e.OrganizationID, e.UserID, domain.RoleCollaborator.String(), e.RemovedBy}, true
	case domain.CollaboratorPermissionsChanged:
		return "partners.collaborator.permissions_changed.v1", CollaboratorPermissionsChangedV1{e.OrganizationID, e.UserID,
			e.CanPurchase, e.CanSeeAllOrders, e.ChangedBy}, true
	case domain.ContractShown:
		watchers := make([]PortalRecipientV1, 0, len(e.Watchers))
		for _, w := range e.Watchers {
			watchers = append(watchers, recipient(w))
		}
		return "partners.contract.shared.v1", ContractSharedV1{e.OrganizationID, e.ContractID.String(), recipient(e.Requester),
			watchers, e.AttachmentsVisible}, true
	case domain.WatcherAdded:
		return "partners.contract.watcher_added.v1", ContractWatcherAddedV1{e.OrganizationID, e.ContractID.String(), recipient(e.Watcher)}, true
	case domain.WatcherRemoved:
		return "partners.contract.watcher_removed.v1", ContractWatcherRemovedV1{e.OrganizationID, e.ContractID.String(), e.PortalUserID, nil}, true
	case domain.WatcherAccessWithdrawn:
		reason := e.Reason
		return "partners.contract.watcher_removed.v1", ContractWatcherRemovedV1{e.OrganizationID, e.ContractID.String(), e.PortalUserID, &reason}, true
	case domain.AttachmentsVisibilityChanged:
		return "partners.contract.attachments_changed.v1", ContractAttachmentsChangedV1{e.OrganizationID, e.ContractID.String(), e.AttachmentsVisible}, true
	case domain.ContractWithdrawn:
		return "partners.contract.withdrawn.v1", ContractWithdrawnV1{e.OrganizationID, e.ContractID.String()}, true
	case domain.PersonForgotten:
		return "partners.person.forgotten.v1", PersonForgottenV1{string(e.PersonRef)}, true
	}
	return "", nil, false
}

// Messages turns a stored event into its public messages, one per
// organization in orgs (nil for an internal-only event).
func Messages(ev *eventstore.Event, orgs []uuid.UUID) ([]Message, error) {
	name, data, ok := public(ev.Data)
	if !ok || len(orgs) == 0 {
		return nil, nil
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("public event %s: %w", name, err)
	}
	out := make([]Message, 0, len(orgs))
	seen := make(map[uuid.UUID]bool, len(orgs))
	for _, org := range orgs {
		if seen[org] {
			continue
		}
		seen[org] = true
		out = append(out, Message{ID: MessageID(ev.EventID, org), EventID: ev.EventID, Type: name, OrganizationID: org,
			OccurredAt: ev.RecordedAt.UTC(), Position: ev.Position, Data: raw})
	}
	return out, nil
}

// isPublic reports whether an internal event type has a public event.
func isPublic(eventType string) bool {
	for _, e := range Events {
		if slices.Contains(e.From, eventType) {
			return true
		}
	}
	return false
}
