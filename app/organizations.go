package app

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"partners/domain"
	"partners/eventstore"
)

// CreateOrganization opens a company account whose owner is the actor. A
// SIRET belongs to one organization only.
func (a *App) CreateOrganization(ctx context.Context, actor domain.Actor, name string, side domain.Side, siret domain.Siret) (uuid.UUID, eventstore.Result, error) {
	cmd := domain.CreateOrganization{OrganizationID: a.NewID(), Name: name, Side: side, Siret: siret, Actor: actor}
	evs, err := domain.DecideCreateOrganization(&domain.Organization{}, cmd)
	if err != nil {
		return uuid.Nil, eventstore.Result{}, err
	}
	b := eventstore.Batch{
		Meta: a.metadata(ctx, actor, "CreateOrganization"),
		Streams: []eventstore.StreamAppend{{
			StreamID: domain.OrganizationStream(cmd.OrganizationID), StreamType: domain.OrganizationStreamType,
			Expected: eventstore.NoStream, Events: a.newEvents(evs),
		}},
	}
	if !siret.IsZero() {
		b.Reserve = append(b.Reserve, eventstore.Reservation{Key: "siret:" + siret.String(), Holder: cmd.OrganizationID.String()})
	}
	res, err := a.retry(ctx, func() (eventstore.Result, error) { return a.Store.Append(ctx, b) })
	var taken *eventstore.ReservationError
	if errors.As(err, &taken) {
		return uuid.Nil, res, (&domain.Error{
			Code:    domain.CodeSiretTaken,
			Message: "An organization with this SIRET already exists. Ask its owner to invite you instead.",
			Fields:  []domain.FieldError{{Field: "siret", Message: "is already used by another organization"}},
		})
	}
	return cmd.OrganizationID, res, err
}
