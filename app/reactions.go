package app

import "partners/eventstore"

// Reactions lists the app's process managers, by Watermill consumer group,
// for the serve command to subscribe.
func (a *App) Reactions() map[string]eventstore.Reaction {
	return map[string]eventstore.Reaction{
		PortalConsumerGroup: a.ReactToPortalChange,
	}
}
