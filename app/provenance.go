package app

import (
	"context"

	"github.com/google/uuid"

	"partners/domain"
	"partners/eventstore"
)

// The provenance answers (issue 21) read an organization's own streams, and
// nothing else: its stream, which GrantOf folds too, and one contract's
// share stream. They need what the folds drop (each event's id, position,
// instant and actor), so they read the streams whole.

// OrganizationRecord is the organization's stream as recorded, in order.
func (a *App) OrganizationRecord(ctx context.Context, org uuid.UUID) ([]domain.Recorded, error) {
	return a.record(ctx, domain.OrganizationStream(org))
}

// ContractShareRecord is one contract's share stream as recorded, in order
// (empty when the contract was never shown).
func (a *App) ContractShareRecord(ctx context.Context, org uuid.UUID, contract domain.ContractID) ([]domain.Recorded, error) {
	return a.record(ctx, domain.ContractShareStream(org, contract))
}

func (a *App) record(ctx context.Context, stream string) ([]domain.Recorded, error) {
	evs, _, err := a.Store.ReadStream(ctx, stream)
	if err != nil {
		return nil, err
	}
	return recorded(evs), nil
}

// recorded turns stored events into the domain's recorded events.
func recorded(evs []eventstore.Event) []domain.Recorded {
	out := make([]domain.Recorded, len(evs))
	for i, e := range evs {
		out[i] = domain.Recorded{EventID: e.EventID, Type: e.Type, Position: e.Position, OccurredAt: e.RecordedAt.UTC(),
			Actor: domain.RecordedActor{UserID: e.Meta.Actor.UserID, Email: e.Meta.Actor.Email}, Event: e.Data}
	}
	return out
}
