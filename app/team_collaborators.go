package app

import (
	"context"
	"time"

	"github.com/google/uuid"

	"partners/domain"
	"partners/eventstore"
)

// Collaborators (DOMAIN.md section 4, seed 003): accounts created by an
// owner or admin and activated with an emailed token, and requests to be
// attached, recorded whatever their target and answered by each
// organization they reach.

var collaborators = newTokenKind[domain.CollaboratorInvitation]("collaborator-invitation", domain.CollaboratorInvitationStream,
	domain.CollaboratorInvitationStreamType, "pending-collaborator-invitation")

// NewCollaborator is what the owner types to create a collaborator account.
type NewCollaborator struct {
	FirstName, LastName string
	Email               domain.Email
	Phone               domain.Phone
	CanPurchase         bool
	CanSeeAllOrders     bool
	Locale              string
}

// CollaboratorSent is the outcome of a collaborator account's creation:
// the invitation and the one copy of its activation token.
type CollaboratorSent struct {
	Invitation *domain.CollaboratorInvitation
	Token      string
	Result     eventstore.Result
}

// CreateCollaborator creates a collaborator account; the invited person
// gets an activation email. One pending account per organization and
// email.
func (a *App) CreateCollaborator(ctx context.Context, actor domain.Actor, org uuid.UUID, n NewCollaborator) (CollaboratorSent, error) {
	inv, token, res, err := sendWithToken(ctx, a, org, "CreateCollaborator", collaborators, domain.TokenSend{Email: n.Email, Locale: n.Locale, Actor: actor},
		func(_ *attempt, o *domain.Organization, s domain.TokenSend, pending *domain.CollaboratorInvitation) ([]domain.Event, error) {
			return domain.DecideInviteCollaborator(o, domain.InviteCollaborator{TokenSend: s, FirstName: n.FirstName, LastName: n.LastName,
				Phone: n.Phone, CanPurchase: n.CanPurchase, CanSeeAllOrders: n.CanSeeAllOrders, Pending: pending})
		})
	return CollaboratorSent{Invitation: inv, Token: token, Result: res}, err
}

// collaboratorSlot is the pending slot a collaborator invitation holds.
func collaboratorSlot(inv *domain.CollaboratorInvitation) string {
	return collaborators.pendingKey(inv.OrganizationID, inv.EmailRef)
}

// ResendCollaboratorInvitation sends the activation email of an account
// not yet activated again, with a new link: the previous one opens
// nothing from then on. An empty locale keeps the invitation's.
func (a *App) ResendCollaboratorInvitation(ctx context.Context, actor domain.Actor, id uuid.UUID, locale string) (CollaboratorSent, error) {
	inv, token, res, err := resendWithToken(ctx, a, actor, "ResendCollaboratorInvitation", collaborators, id, collaboratorSlot,
		func(t *attempt, inv *domain.CollaboratorInvitation, hash string) ([]domain.Event, error) {
			o, err := t.org(ctx, inv.OrganizationID)
			if err != nil {
				return nil, err
			}
			return domain.DecideResendCollaboratorInvitation(inv, o, domain.ResendCollaboratorInvitation{TokenHash: hash, Locale: locale,
				Actor: actor, Now: a.Now(), TTL: a.ttl()})
		})
	return CollaboratorSent{Invitation: inv, Token: token, Result: res}, err
}

// RevokeCollaboratorInvitation withdraws an account not yet activated. Its
// pending slot is freed, so the email may be given an account again, but
// its link keeps finding it, and is refused as withdrawn rather than as
// unknown (as when it dies with its author's right).
func (a *App) RevokeCollaboratorInvitation(ctx context.Context, actor domain.Actor, id uuid.UUID) (*domain.CollaboratorInvitation, eventstore.Result, error) {
	return update(ctx, a, actor, "RevokeCollaboratorInvitation", collaborators.fold, collaborators.stream(id),
		func(t *attempt, inv *domain.CollaboratorInvitation) ([]domain.Event, error) {
			o, err := t.org(ctx, inv.OrganizationID)
			if err != nil {
				return nil, err
			}
			evs, err := domain.DecideRevokeCollaboratorInvitation(inv, o, domain.RevokeCollaboratorInvitation{Actor: actor})
			if err != nil {
				return nil, err
			}
			t.batch.Release = append(t.batch.Release, eventstore.Release{Key: collaboratorSlot(inv), Holder: inv.ID.String()})
			return evs, nil
		})
}

// CollaboratorInvitationByToken is what a collaborator account's
// activation link opens, for its landing page.
func (a *App) CollaboratorInvitationByToken(ctx context.Context, token string) (*domain.CollaboratorInvitation, error) {
	return linkPreview(ctx, a, collaborators, token)
}

// CollaboratorJoined is the outcome of an activation or an approval: the
// new collaborator's membership.
type CollaboratorJoined struct {
	OrganizationID uuid.UUID
	Member         domain.Member
	Since          time.Time
	Result         eventstore.Result
}

// joinedOrganization runs a decision that brings someone into an
// organization: an invitation's or a request's events (on from), and the
// organization's, each appended at the version it was decided on. It
// answers who joined.
func joinedOrganization[S any](ctx context.Context, a *App, actor domain.Actor, command string, org func(S) uuid.UUID,
	from func(t *attempt) (loaded[S], error),
	decide func(t *attempt, s S, o *domain.Organization) (userID string, sEvents, orgEvents []domain.Event, err error),
) (S, CollaboratorJoined, error) {
	var state S
	var out CollaboratorJoined
	res, err := a.run(ctx, actor, command, func(t *attempt) error {
		l, err := from(t)
		if err != nil {
			return err
		}
		state = l.state
		lo, err := t.organization(ctx, org(l.state))
		if err != nil {
			return err
		}
		user, sEvs, orgEvs, err := decide(t, l.state, lo.state.Org)
		if err != nil {
			return err
		}
		l.append(t, sEvs)
		lo.append(t, orgEvs)
		t.stored = append(t.stored, func(eventstore.Result) {
			st := lo.state
			out = CollaboratorJoined{OrganizationID: st.Org.ID, Member: st.Org.Members[user], Since: st.Since[user]}
		})
		return nil
	})
	out.Result = res
	return state, out, err
}

// ActivateCollaborator makes the signed-in holder of the token a
// collaborator of the organization that created the account. The token is
// released with the activation, so a used link opens nothing.
func (a *App) ActivateCollaborator(ctx context.Context, actor domain.Actor, token string) (CollaboratorJoined, error) {
	_, out, err := joinedOrganization(ctx, a, actor, "ActivateCollaborator",
		func(inv *domain.CollaboratorInvitation) uuid.UUID { return inv.OrganizationID },
		func(*attempt) (loaded[*domain.CollaboratorInvitation], error) {
			return byToken(ctx, a, collaborators, token, domain.ErrActivationLinkInvalid())
		},
		func(t *attempt, inv *domain.CollaboratorInvitation, o *domain.Organization) (string, []domain.Event, []domain.Event, error) {
			invEvs, orgEvs, err := domain.DecideActivateCollaborator(inv, o, domain.ActivateCollaborator{Actor: actor, Now: a.Now()})
			closing(t, collaborators.pendingKey(inv.OrganizationID, inv.EmailRef), inv)
			return actor.UserID, invEvs, orgEvs, err
		})
	return out, err
}

// ChangeCollaboratorPermissions sets either or both permissions of a
// collaborator (nil keeps one as it is).
func (a *App) ChangeCollaboratorPermissions(ctx context.Context, actor domain.Actor, org uuid.UUID, userID string, canPurchase, canSeeAllOrders *bool) (MemberChange, error) {
	st, res, err := changeOrganization(ctx, a, actor, org, "ChangeCollaboratorPermissions", domain.DecideChangeCollaboratorPermissions,
		domain.ChangeCollaboratorPermissions{UserID: userID, CanPurchase: canPurchase, CanSeeAllOrders: canSeeAllOrders, Actor: actor})
	return memberChange(st, userID, res, err)
}

// RemoveCollaborator detaches a collaborator from the organization.
func (a *App) RemoveCollaborator(ctx context.Context, actor domain.Actor, org uuid.UUID, userID string) (eventstore.Result, error) {
	_, res, err := changeOrganization(ctx, a, actor, org, "RemoveCollaborator", domain.DecideRemoveCollaborator,
		domain.RemoveCollaborator{UserID: userID, Actor: actor})
	return res, err
}

// =============================================================================
// Collaboration requests

// requestKey reserves one unanswered request per requester and target, so
// asking twice records nothing new. It depends only on the requester's own
// requests, never on whether the target exists.
func requestKey(requester, siret string, ref domain.PersonRef) string {
	target := "siret:" + siret
	if ref != "" {
		target = "email:" + string(ref)
	}
	return "collaboration-request:" + target + ":" + requester
}

var requests = foldSpec[*domain.CollaborationRequest]{
	kind:  "collaboration-request",
	empty: func() *domain.CollaborationRequest { return &domain.CollaborationRequest{} },
	apply: func(r *domain.CollaborationRequest, e eventstore.Event) { r.Apply(e.Data) },
	clone: (*domain.CollaborationRequest).Clone,
}

func requestStream(id uuid.UUID) stream {
	return stream{domain.CollaborationRequestStream(id), domain.CollaborationRequestStreamType}
}

// Requested is the outcome of a collaboration request.
type Requested struct {
	RequestID uuid.UUID
	Result    eventstore.Result
}

// RequestCollaboration records a request to be attached to the account
// with a SIRET or whose owner has an email (exactly one is set). It looks
// at no organization: the request is recorded the same way whether or not
// the target exists, and matched afterwards. Asking again while the first
// request is unanswered answers that request again and records nothing.
func (a *App) RequestCollaboration(ctx context.Context, actor domain.Actor, siret domain.Siret, email domain.Email) (Requested, error) {
	var ref domain.PersonRef
	if !email.IsZero() {
		ref = a.Store.Keys().Ref(email.String())
	}
	key := requestKey(actor.UserID, siret.String(), ref)
	var out Requested
	res, err := a.run(ctx, actor, "RequestCollaboration", func(t *attempt) error {
		var replace string
		if id, ok, err := a.holderID(ctx, key); err != nil {
			return err
		} else if ok {
			earlier, err := requests.load(ctx, a, requestStream(id))
			if err != nil {
				return err
			}
			if earlier.state.Exists() && len(earlier.state.Answers) == 0 {
				out = Requested{RequestID: earlier.state.ID}
				t.position = earlier.position
				return nil
			}
			replace = id.String()
		}
		cmd := domain.RequestCollaboration{RequestID: a.NewID(), TargetSiret: siret, TargetRef: ref, TargetEmail: email, Actor: actor}
		evs, err := domain.DecideRequestCollaboration(&domain.CollaborationRequest{}, cmd)
		if err != nil {
			return err
		}
		// A reservation taken meanwhile is the same request, sent twice at
		// once: the next attempt answers the winner's.
		t.add(requestStream(cmd.RequestID), eventstore.NoStream, evs)
		t.batch.Reserve = []eventstore.Reservation{{Key: key, Holder: cmd.RequestID.String(), Replace: replace}}
		out = Requested{RequestID: cmd.RequestID}
		return nil
	})
	out.Result = res
	return out, err
}

// RequestedEmail is the address a collaboration request was sent to, as
// its requester typed it, for the requester to follow it: empty for a
// request by SIRET and for one recorded before the address was kept.
func (a *App) RequestedEmail(ctx context.Context, id uuid.UUID) (domain.Personal, error) {
	l, err := requests.load(ctx, a, requestStream(id))
	return l.state.TargetEmail, err
}

// RequestAnswered is the outcome of an approval or a rejection.
type RequestAnswered struct {
	Request *domain.CollaborationRequest
	// Joined is the new collaborator (approval only).
	Joined *CollaboratorJoined
	Result eventstore.Result
}

// ApproveCollaborationRequest attaches the requester to the organization as
// a collaborator with the two permissions chosen.
func (a *App) ApproveCollaborationRequest(ctx context.Context, actor domain.Actor, org, id uuid.UUID, canPurchase, canSeeAllOrders bool) (RequestAnswered, error) {
	r, joined, err := joinedOrganization(ctx, a, actor, "ApproveCollaborationRequest",
		func(*domain.CollaborationRequest) uuid.UUID { return org },
		func(*attempt) (loaded[*domain.CollaborationRequest], error) {
			return requests.load(ctx, a, requestStream(id))
		},
		func(t *attempt, r *domain.CollaborationRequest, o *domain.Organization) (string, []domain.Event, []domain.Event, error) {
			reqEvs, orgEvs, err := domain.DecideApproveCollaborationRequest(r, o, domain.ApproveCollaborationRequest{
				CanPurchase: canPurchase, CanSeeAllOrders: canSeeAllOrders, Actor: actor})
			t.batch.Release = requestRelease(r)
			return r.RequesterID, reqEvs, orgEvs, err
		})
	res := joined.Result
	if err != nil {
		return RequestAnswered{Result: res}, err
	}
	joined.Result = eventstore.Result{}
	return RequestAnswered{Request: r, Joined: &joined, Result: res}, nil
}

// RejectCollaborationRequest says no for this organization; the requester
// may ask again.
func (a *App) RejectCollaborationRequest(ctx context.Context, actor domain.Actor, org, id uuid.UUID) (RequestAnswered, error) {
	r, res, err := update(ctx, a, actor, "RejectCollaborationRequest", requests, requestStream(id),
		func(t *attempt, r *domain.CollaborationRequest) ([]domain.Event, error) {
			o, err := t.org(ctx, org)
			if err != nil {
				return nil, err
			}
			t.batch.Release = requestRelease(r)
			return domain.DecideRejectCollaborationRequest(r, o, domain.RejectCollaborationRequest{Actor: actor})
		})
	if err != nil {
		return RequestAnswered{Result: res}, err
	}
	return RequestAnswered{Request: r, Result: res}, nil
}

// requestRelease frees the requester's slot for the target once an
// organization answered.
func requestRelease(r *domain.CollaborationRequest) []eventstore.Release {
	return []eventstore.Release{{Key: requestKey(r.RequesterID, r.TargetSiret, r.TargetRef), Holder: r.ID.String()}}
}
