// Package app holds the command handlers: each loads the aggregates it
// needs from the event store, asks the domain to decide, and appends the
// result, retrying when another command changed the same stream meanwhile.
//
// It must never write SQL of its own beyond the event store's API, nor know
// about HTTP.
package app

import (
	"context"
	"time"

	"github.com/google/uuid"

	"partners/domain"
	"partners/eventstore"
)

// App is the application service.
type App struct {
	Store *eventstore.Store
	Now   func() time.Time
	NewID func() uuid.UUID
	// Appended is called after each successful append (the projector's
	// wake-up on this replica).
	Appended func()
	// InvitationTTL is how long invitations stay open (default 30 days).
	InvitationTTL time.Duration
	// Erasers delete what other packages' tables hold of a forgotten person.
	Erasers []Eraser

	folds folds
}

// New builds an App with the real clock and random ids.
func New(store *eventstore.Store) *App {
	return &App{Store: store, Now: Clock, NewID: uuid.New, Appended: func() {}}
}

// Clock is the real clock at the database's precision (microseconds, UTC),
// so an instant answered by a command reads back the same from a query.
func Clock() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

type requestInfoKey struct{}

// RequestInfo is what the edge knows of the request that issued a command.
type RequestInfo struct {
	RequestID     string
	CorrelationID string
}

// WithRequestInfo attaches request ids to ctx.
func WithRequestInfo(ctx context.Context, ri RequestInfo) context.Context {
	return context.WithValue(ctx, requestInfoKey{}, ri)
}

func (a *App) metadata(ctx context.Context, actor domain.Actor, command string) eventstore.Metadata {
	ri, _ := ctx.Value(requestInfoKey{}).(RequestInfo)
	m := eventstore.Metadata{
		Actor:         eventstore.Actor{UserID: actor.UserID},
		RequestID:     ri.RequestID,
		CorrelationID: ri.CorrelationID,
		Command:       command,
	}
	if actor.EmailRef != "" {
		m.Actor.Email = actor.EmailPersonal()
	}
	return m
}

// ActorFor completes an actor with its email's person ref.
func (a *App) ActorFor(userID string, email domain.Email, verified bool, name string) domain.Actor {
	act := domain.Actor{UserID: userID, Email: email, EmailVerified: verified, Name: name}
	if !email.IsZero() {
		act.EmailRef = a.Store.Keys().Ref(email.String())
	}
	return act
}

// newEvents gives each event an id.
func (a *App) newEvents(evs []domain.Event) []eventstore.NewEvent {
	out := make([]eventstore.NewEvent, len(evs))
	for i, e := range evs {
		out[i] = eventstore.NewEvent{ID: a.NewID(), Data: e}
	}
	return out
}

// LoadOrganization rebuilds an organization from its stream.
func (a *App) LoadOrganization(ctx context.Context, id uuid.UUID) (*domain.Organization, error) {
	st, err := a.loadOrganizationState(ctx, id)
	return st.Org, err
}
