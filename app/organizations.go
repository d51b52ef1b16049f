package app

import (
	"context"

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
	news := a.newEvents(evs)
	res, err := a.run(ctx, actor, "CreateOrganization", func(t *attempt) error {
		t.batch.Streams = []eventstore.StreamAppend{{StreamID: domain.OrganizationStream(cmd.OrganizationID),
			StreamType: domain.OrganizationStreamType, Expected: eventstore.NoStream, Events: news}}
		if !siret.IsZero() {
			t.batch.Reserve = []eventstore.Reservation{{Key: "siret:" + siret.String(), Holder: cmd.OrganizationID.String()}}
		}
		t.taken = func(*eventstore.ReservationError) error {
			return &domain.Error{
				Code:    domain.CodeSiretTaken,
				Message: "An organization with this SIRET already exists. Ask its owner to invite you instead.",
				Fields:  []domain.FieldError{{Field: "siret", Message: "is already used by another organization"}},
			}
		}
		return nil
	})
	if domain.ErrorCode(err) == domain.CodeSiretTaken {
		return uuid.Nil, res, err
	}
	return cmd.OrganizationID, res, err
}
