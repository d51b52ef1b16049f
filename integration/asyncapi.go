package integration

import (
	"encoding/json"
	"strings"
	"sync"
)

// AsyncAPIVersion is the AsyncAPI version of the document.
const AsyncAPIVersion = "3.0.0"

// StreamName is the JetStream stream the forwarder publishes to; its
// subjects are partners.> .
const StreamName = "PARTNERS"

// AsyncAPI is the AsyncAPI 3 document of the contract, served at
// /asyncapi.json: one channel per public event (its address holds the
// organization), one send operation each, and each message's payload the
// event's JSON Schema.
func AsyncAPI() []byte {
	asyncOnce.Do(func() {
		b, err := json.MarshalIndent(asyncAPIDocument(), "", "  ")
		if err != nil {
			panic(err)
		}
		asyncDoc = b
	})
	return asyncDoc
}

var (
	asyncOnce sync.Once
	asyncDoc  []byte
)

// componentKey is the document's key of a public event: its name without
// the "partners." prefix and with dots as dashes.
func componentKey(name string) string {
	return strings.ReplaceAll(strings.TrimPrefix(name, SubjectPrefix), ".", "-")
}

func asyncAPIDocument() schema {
	channels, operations, messages, schemas := schema{}, schema{}, schema{}, schema{}
	for _, e := range Events {
		key := componentKey(e.Name)
		schemas[key] = e.Schema()
		messages[key] = schema{
			"name":        e.Name,
			"title":       e.Name,
			"summary":     e.Summary,
			"contentType": "application/json",
			"description": "Made from the internal event(s) " + strings.Join(e.From, ", ") + ". One message per organization the event touches.",
			"headers":     schema{"$ref": "#/components/schemas/headers"},
			"payload":     schema{"$ref": "#/components/schemas/" + key},
		}
		channels[key] = schema{
			"address":     ChannelAddress(e.Name),
			"title":       e.Name,
			"description": e.Summary + ".",
			"parameters":  schema{"organization": schema{"$ref": "#/components/parameters/organization"}},
			"messages":    schema{key: schema{"$ref": "#/components/messages/" + key}},
		}
		operations["send-"+key] = schema{
			"action":   "send",
			"summary":  e.Summary,
			"channel":  schema{"$ref": "#/channels/" + key},
			"messages": []any{schema{"$ref": "#/channels/" + key + "/messages/" + key}},
		}
	}
	schemas["headers"] = schema{
		"type": "object",
		"properties": schema{
			"Nats-Msg-Id": schema{"type": "string", "description": "<event_id>:<organization_id>: JetStream drops a re-send within its duplicate window"},
		},
		"required": []string{"Nats-Msg-Id"},
	}
	return schema{
		"asyncapi": AsyncAPIVersion,
		"info": schema{
			"title":   "partners: partner events",
			"version": "1.0.0",
			"description": "The partner network's public events, on NATS JetStream (stream " + StreamName + ", subjects partners.>). " +
				"Each event is published once per organization it touches, on partners.<organization>.<event>, in the service's log order " +
				"for each organization, at least once; the message id <event_id>:<organization_id> (Nats-Msg-Id) lets the stream drop a re-send. " +
				"Events carry ids, sides, roles, flags and person refs, never clear personal data: a consumer that needs a name asks the API.",
		},
		"defaultContentType": "application/json",
		"servers": schema{
			"jetstream": schema{"host": "127.0.0.1:4222", "protocol": "nats", "description": "The NATS server given to the service in PARTNERS_NATS_URL"},
		},
		"channels":   channels,
		"operations": operations,
		"components": schema{
			"schemas":  schemas,
			"messages": messages,
			"parameters": schema{
				"organization": schema{"description": "The id (UUID) of the organization the message is for"},
			},
		},
	}
}

// ChannelAddress is a public event's subject with the organization left as the
// AsyncAPI parameter {organization}.
func ChannelAddress(name string) string {
	return SubjectPrefix + "{organization}." + strings.TrimPrefix(name, SubjectPrefix)
}
