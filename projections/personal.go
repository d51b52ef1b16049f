package projections

import (
	"slices"

	"partners/domain"
	"partners/eventstore"
)

// PersonalColumn is a read-model column holding a person's data, with the
// column naming its owner.
type PersonalColumn struct {
	Table, Value, Ref string
}

// personalColumns says, per read model, where personal data sits. When a
// person is forgotten every driver (live, rebuild, as-of) scrubs these
// copies at the PersonForgotten event's place in the log, so a live read
// model and a replay agree.
var personalColumns = map[string][]PersonalColumn{
	"members": {
		{Table: "rm_members", Value: "email", Ref: "email_ref"},
		{Table: "rm_members", Value: "name", Ref: "email_ref"},
	},
	"invitations_sent": {
		{Table: "rm_invitations_sent", Value: "email", Ref: "email_ref"},
		{Table: "rm_invitations_sent", Value: "message", Ref: "message_ref"},
		{Table: "rm_invitations_sent", Value: "contact_name", Ref: "contact_ref"},
		{Table: "rm_invitations_sent", Value: "contact_company", Ref: "contact_ref"},
		{Table: "rm_invitations_sent", Value: "contact_phone", Ref: "contact_ref"},
	},
	"invitations_received": {
		{Table: "rm_received_invitations", Value: "message", Ref: "message_ref"},
	},
}

// applyEvent runs a read model's handler for one event, then scrubs its
// copies of a forgotten person's data.
//
// The scrub rewrites the rows in place, the history's included: the
// person's data reads as forgotten at every instant, as it does in a
// replay (whose events can no longer be unsealed), and no clear copy is
// left behind in history.
func applyEvent(pr Projection, w *Writer, ev *eventstore.Event) {
	w.validAt(ev)
	pr.Apply(w, ev)
	f, ok := ev.Data.(domain.PersonForgotten)
	if !ok || len(personalColumns[pr.Name()]) == 0 {
		return
	}
	w.rewriting()
	for _, c := range personalColumns[pr.Name()] {
		for _, t := range []string{c.Table, historyOf(c.Table)} {
			w.Exec(`UPDATE `+t+` SET `+c.Value+` = $1 WHERE `+c.Ref+` = $2 AND `+c.Value+` IS DISTINCT FROM $1`,
				domain.Forgotten, string(f.PersonRef))
		}
	}
}

// historyOf names a read-model table's history (migration 014).
func historyOf(table string) string { return table + "_history" }

// eventTypes is every event type the read models ps read, PersonForgotten
// included where one of them holds personal data.
func eventTypes(ps ...Projection) []string {
	var out []string
	for _, pr := range ps {
		out = append(out, pr.EventTypes()...)
		if len(personalColumns[pr.Name()]) > 0 {
			out = append(out, domain.PersonForgotten{}.EventType())
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
