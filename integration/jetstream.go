package integration

import (
	"errors"
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wmnats "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	"github.com/nats-io/nats.go"
)

// DuplicateWindow is how long the stream remembers message ids: a re-send
// within it is dropped. The forwarder records its place after every batch,
// so its re-sends (after a crash) are seconds old.
const DuplicateWindow = 2 * time.Minute

// PublishTimeout bounds the wait for the stream's acknowledgement of one
// message; past it the batch stops there and is tried again.
const PublishTimeout = 2 * time.Second

// Connect opens a connection to NATS that reconnects forever. Nothing is
// buffered while it is down: a publish then fails at once, and the
// forwarder tries again from its checkpoint, in order.
func Connect(url, name string) (*nats.Conn, error) {
	nc, err := nats.Connect(url, nats.Name(name), nats.MaxReconnects(-1), nats.ReconnectWait(250*time.Millisecond),
		nats.ReconnectBufSize(-1), nats.RetryOnFailedConnect(true))
	if err != nil {
		return nil, fmt.Errorf("connect to NATS: %w", err)
	}
	return nc, nil
}

// NewPublisher is the watermill-nats JetStream publisher the forwarder
// uses: it waits for each message's acknowledgement and sends the message's
// UUID (<event id>:<organization>) as its Nats-Msg-Id.
func NewPublisher(nc *nats.Conn, logger watermill.LoggerAdapter) (*wmnats.Publisher, error) {
	return wmnats.NewPublisherWithNatsConn(nc, wmnats.PublisherPublishConfig{
		Marshaler:         &wmnats.NATSMarshaler{},
		SubjectCalculator: wmnats.DefaultSubjectCalculator,
		JetStream: wmnats.JetStreamConfig{
			TrackMsgId:     true,
			ConnectOptions: []nats.JSOpt{nats.MaxWait(PublishTimeout)},
		},
	}, logger)
}

// EnsureStream creates the stream when it does not exist: file storage,
// subjects partners.>, and the duplicate window.
func EnsureStream(nc *nats.Conn) error {
	js, err := nc.JetStream(nats.MaxWait(PublishTimeout))
	if err != nil {
		return err
	}
	_, err = js.StreamInfo(StreamName)
	if errors.Is(err, nats.ErrStreamNotFound) {
		_, err = js.AddStream(&nats.StreamConfig{Name: StreamName, Subjects: []string{SubjectPrefix + ">"},
			Storage: nats.FileStorage, Duplicates: DuplicateWindow})
	}
	if err != nil {
		return fmt.Errorf("stream %s: %w", StreamName, err)
	}
	return nil
}
