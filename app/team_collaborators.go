package app

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"partners/domain"
	"partners/eventstore"
)

// Collaborators (DOMAIN.md section 4, seed 003): accounts created by an
// owner or admin and activated with an emailed token, and requests to be
// attached, recorded whatever their target and answered by each
// organization they reach.

func collaboratorPendingKey(org uuid.UUID, ref domain.PersonRef) string {
	return "pending-collaborator-invitation:" + org.String() + ":" + string(ref)
}

// LoadCollaboratorInvitation rebuilds a collaborator account's invitation.
func (a *App) LoadCollaboratorInvitation(ctx context.Context, id uuid.UUID) (*domain.CollaboratorInvitation, error) {
	evs, _, err := a.Store.ReadStream(ctx, domain.CollaboratorInvitationStream(id))
	if err != nil {
		return nil, err
	}
	inv := &domain.CollaboratorInvitation{}
	for _, e := range evs {
		inv.Apply(e.Data)
	}
	return inv, nil
}

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
	ref := a.Store.Keys().Ref(n.Email.String())
	key := collaboratorPendingKey(org, ref)
	var out CollaboratorSent
	res, err := a.retry(ctx, func() (eventstore.Result, error) {
		o, err := a.LoadOrganization(ctx, org)
		if err != nil {
			return eventstore.Result{}, err
		}
		cmd := domain.InviteCollaborator{InvitationID: a.NewID(), FirstName: n.FirstName, LastName: n.LastName, Email: n.Email,
			EmailRef: ref, Phone: n.Phone, CanPurchase: n.CanPurchase, CanSeeAllOrders: n.CanSeeAllOrders, Locale: n.Locale,
			Actor: actor, Now: a.Now(), TTL: a.ttl()}
		var replace string
		if id, ok, err := a.holderID(ctx, key); err != nil {
			return eventstore.Result{}, err
		} else if ok {
			if cmd.Pending, err = a.LoadCollaboratorInvitation(ctx, id); err != nil {
				return eventstore.Result{}, err
			}
			replace = id.String()
		}
		token, hash := NewToken()
		cmd.TokenHash = hash
		evs, err := domain.DecideInviteCollaborator(o, cmd)
		if err != nil {
			return eventstore.Result{}, err
		}
		news := a.newEvents(evs)
		inv := &domain.CollaboratorInvitation{}
		for _, e := range evs {
			inv.Apply(e)
		}
		res, err := a.Store.Append(ctx, eventstore.Batch{
			Meta: a.metadata(ctx, actor, "CreateCollaborator"),
			Streams: []eventstore.StreamAppend{{StreamID: domain.CollaboratorInvitationStream(inv.ID),
				StreamType: domain.CollaboratorInvitationStreamType, Expected: eventstore.NoStream, Events: news}},
			Reserve: []eventstore.Reservation{
				{Key: key, Holder: inv.ID.String(), Replace: replace},
				{Key: TokenKey(hash), Holder: inv.ID.String()},
			},
			Secrets: []eventstore.Secret{{EventID: news[0].ID, Value: []byte(token)}},
		})
		var taken *eventstore.ReservationError
		if errors.As(err, &taken) {
			return res, concurrencyConflict()
		}
		out = CollaboratorSent{Invitation: inv, Token: token}
		return res, err
	})
	out.Result = res
	return out, err
}

// CollaboratorJoined is the outcome of an activation or an approval: the
// new collaborator's membership.
type CollaboratorJoined struct {
	OrganizationID uuid.UUID
	Member         domain.Member
	Since          time.Time
	Result         eventstore.Result
}

// collaboratorByToken finds the collaborator account an activation token
// opens. Any other token (unknown, used, another kind of link) opens
// nothing, and says so the same way.
func (a *App) collaboratorByToken(ctx context.Context, token string) (*domain.CollaboratorInvitation, error) {
	if !ValidTokenShape(token) {
		return nil, domain.ErrActivationLinkInvalid()
	}
	id, ok, err := a.holderID(ctx, TokenKey(HashToken(token)))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, domain.ErrActivationLinkInvalid()
	}
	inv, err := a.LoadCollaboratorInvitation(ctx, id)
	if err != nil {
		return nil, err
	}
	if !inv.Exists() || !TokenMatches(token, inv.TokenHash) {
		return nil, domain.ErrActivationLinkInvalid()
	}
	return inv, nil
}

// ActivateCollaborator makes the signed-in holder of the token a
// collaborator of the organization that created the account. The token is
// released with the activation, so a used link opens nothing.
func (a *App) ActivateCollaborator(ctx context.Context, actor domain.Actor, token string) (CollaboratorJoined, error) {
	var out CollaboratorJoined
	res, err := a.retry(ctx, func() (eventstore.Result, error) {
		inv, err := a.collaboratorByToken(ctx, token)
		if err != nil {
			return eventstore.Result{}, err
		}
		st, err := a.loadOrganizationState(ctx, inv.OrganizationID)
		if err != nil {
			return eventstore.Result{}, err
		}
		invEvs, orgEvs, err := domain.DecideActivateCollaborator(inv, st.Org, actor, a.Now())
		if err != nil {
			return eventstore.Result{}, err
		}
		res, err := a.Store.Append(ctx, eventstore.Batch{
			Meta: a.metadata(ctx, actor, "ActivateCollaborator"),
			Streams: []eventstore.StreamAppend{
				{StreamID: domain.CollaboratorInvitationStream(inv.ID), StreamType: domain.CollaboratorInvitationStreamType,
					Expected: eventstore.Exactly(inv.Version), Events: a.newEvents(invEvs)},
				organizationAppend(st.Org, a.newEvents(orgEvs)),
			},
			Release: []eventstore.Release{
				{Key: collaboratorPendingKey(inv.OrganizationID, inv.EmailRef), Holder: inv.ID.String()},
				{Key: TokenKey(inv.TokenHash), Holder: inv.ID.String()},
			},
		})
		if err == nil {
			st.applied(orgEvs, res)
			out = CollaboratorJoined{OrganizationID: st.Org.ID, Member: st.Org.Members[actor.UserID], Since: st.Since[actor.UserID]}
		}
		return res, err
	})
	out.Result = res
	return out, err
}

// ChangeCollaboratorPermissions sets either or both permissions of a
// collaborator (nil keeps one as it is).
func (a *App) ChangeCollaboratorPermissions(ctx context.Context, actor domain.Actor, org uuid.UUID, userID string, canPurchase, canSeeAllOrders *bool) (MemberChange, error) {
	st, res, err := a.changeOrganization(ctx, actor, org, "ChangeCollaboratorPermissions", func(o *domain.Organization) ([]domain.Event, error) {
		return domain.DecideChangeCollaboratorPermissions(o, domain.ChangeCollaboratorPermissions{UserID: userID,
			CanPurchase: canPurchase, CanSeeAllOrders: canSeeAllOrders, Actor: actor})
	})
	if err != nil {
		return MemberChange{}, err
	}
	return memberChange(st, userID, res), nil
}

// RemoveCollaborator detaches a collaborator from the organization.
func (a *App) RemoveCollaborator(ctx context.Context, actor domain.Actor, org uuid.UUID, userID string) (eventstore.Result, error) {
	_, res, err := a.changeOrganization(ctx, actor, org, "RemoveCollaborator", func(o *domain.Organization) ([]domain.Event, error) {
		return domain.DecideRemoveCollaborator(o, userID, actor)
	})
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

// LoadCollaborationRequest rebuilds a collaboration request, with the
// position of its last event.
func (a *App) LoadCollaborationRequest(ctx context.Context, id uuid.UUID) (*domain.CollaborationRequest, int64, error) {
	evs, _, err := a.Store.ReadStream(ctx, domain.CollaborationRequestStream(id))
	if err != nil {
		return nil, 0, err
	}
	r := &domain.CollaborationRequest{}
	var last int64
	for _, e := range evs {
		r.Apply(e.Data)
		last = e.Position
	}
	return r, last, nil
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
	res, err := a.retry(ctx, func() (eventstore.Result, error) {
		var replace string
		if id, ok, err := a.holderID(ctx, key); err != nil {
			return eventstore.Result{}, err
		} else if ok {
			earlier, last, err := a.LoadCollaborationRequest(ctx, id)
			if err != nil {
				return eventstore.Result{}, err
			}
			if earlier.Exists() && len(earlier.Answers) == 0 {
				out = Requested{RequestID: earlier.ID}
				return eventstore.Result{Position: last}, nil
			}
			replace = id.String()
		}
		cmd := domain.RequestCollaboration{RequestID: a.NewID(), TargetSiret: siret, TargetRef: ref, Actor: actor}
		evs, err := domain.DecideRequestCollaboration(&domain.CollaborationRequest{}, cmd)
		if err != nil {
			return eventstore.Result{}, err
		}
		res, err := a.Store.Append(ctx, eventstore.Batch{
			Meta: a.metadata(ctx, actor, "RequestCollaboration"),
			Streams: []eventstore.StreamAppend{{StreamID: domain.CollaborationRequestStream(cmd.RequestID),
				StreamType: domain.CollaborationRequestStreamType, Expected: eventstore.NoStream, Events: a.newEvents(evs)}},
			Reserve: []eventstore.Reservation{{Key: key, Holder: cmd.RequestID.String(), Replace: replace}},
		})
		var taken *eventstore.ReservationError
		if errors.As(err, &taken) {
			return res, concurrencyConflict() // the same request, sent twice at once: answer the winner's
		}
		out = Requested{RequestID: cmd.RequestID}
		return res, err
	})
	out.Result = res
	return out, err
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
	var out RequestAnswered
	res, err := a.retry(ctx, func() (eventstore.Result, error) {
		r, _, err := a.LoadCollaborationRequest(ctx, id)
		if err != nil {
			return eventstore.Result{}, err
		}
		st, err := a.loadOrganizationState(ctx, org)
		if err != nil {
			return eventstore.Result{}, err
		}
		reqEvs, orgEvs, err := domain.DecideApproveCollaborationRequest(r, st.Org, domain.ApproveCollaborationRequest{
			CanPurchase: canPurchase, CanSeeAllOrders: canSeeAllOrders, Actor: actor})
		if err != nil {
			return eventstore.Result{}, err
		}
		res, err := a.Store.Append(ctx, eventstore.Batch{
			Meta: a.metadata(ctx, actor, "ApproveCollaborationRequest"),
			Streams: []eventstore.StreamAppend{
				requestAppend(r, a.newEvents(reqEvs)),
				organizationAppend(st.Org, a.newEvents(orgEvs)),
			},
			Release: []eventstore.Release{{Key: requestKey(r.RequesterID, r.TargetSiret, r.TargetRef), Holder: r.ID.String()}},
		})
		if err == nil {
			for _, e := range reqEvs {
				r.Apply(e)
			}
			st.applied(orgEvs, res)
			out = RequestAnswered{Request: r, Joined: &CollaboratorJoined{OrganizationID: org,
				Member: st.Org.Members[r.RequesterID], Since: st.Since[r.RequesterID]}}
		}
		return res, err
	})
	out.Result = res
	return out, err
}

// RejectCollaborationRequest says no for this organization; the requester
// may ask again.
func (a *App) RejectCollaborationRequest(ctx context.Context, actor domain.Actor, org, id uuid.UUID) (RequestAnswered, error) {
	var out RequestAnswered
	res, err := a.retry(ctx, func() (eventstore.Result, error) {
		r, _, err := a.LoadCollaborationRequest(ctx, id)
		if err != nil {
			return eventstore.Result{}, err
		}
		o, err := a.LoadOrganization(ctx, org)
		if err != nil {
			return eventstore.Result{}, err
		}
		evs, err := domain.DecideRejectCollaborationRequest(r, o, actor)
		if err != nil {
			return eventstore.Result{}, err
		}
		res, err := a.Store.Append(ctx, eventstore.Batch{
			Meta:    a.metadata(ctx, actor, "RejectCollaborationRequest"),
			Streams: []eventstore.StreamAppend{requestAppend(r, a.newEvents(evs))},
			Release: []eventstore.Release{{Key: requestKey(r.RequesterID, r.TargetSiret, r.TargetRef), Holder: r.ID.String()}},
		})
		if err == nil {
			for _, e := range evs {
				r.Apply(e)
			}
			out = RequestAnswered{Request: r}
		}
		return res, err
	})
	out.Result = res
	return out, err
}

func requestAppend(r *domain.CollaborationRequest, evs []eventstore.NewEvent) eventstore.StreamAppend {
	return eventstore.StreamAppend{StreamID: domain.CollaborationRequestStream(r.ID), StreamType: domain.CollaborationRequestStreamType,
		Expected: eventstore.Exactly(r.Version), Events: evs}
}
