package drill

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/keywarden/keywarden/internal/detect"
)

// Queue is the temporary SQS queue a drill reading the team's sns: sink
// subscribes to the topic for its life (--alerts sns:TOPIC_ARN), as
// journaled: its name and ARN before it is created, the subscription's
// ARN once SNS gave it (cleanup finds a subscription a crash left
// unjournaled by listing the topic's).
type Queue struct {
	Topic        string `json:"topic"`
	Name         string `json:"name"`
	ARN          string `json:"arn"`
	URL          string `json:"url,omitempty"`
	Subscription string `json:"subscription,omitempty"`
}

// NewQueue is drill id's queue on topic, in topic's region and the
// drill's account.
func NewQueue(topic, account, id string) Queue {
	name := UserName(id)
	partition, region := "aws", ""
	if p := strings.Split(topic, ":"); len(p) == 6 {
		partition, region = p[1], p[3]
	}
	return Queue{Topic: topic, Name: name, ARN: fmt.Sprintf("arn:%s:sqs:%s:%s:%s", partition, region, account, name)}
}

// QueuePolicy lets only q's topic send to q.
func QueuePolicy(q Queue) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:SendMessage","Resource":%q,"Condition":{"ArnEquals":{"aws:SourceArn":%q}}}]}`, q.ARN, q.Topic)
}

// Delivery is one message the queue received: the SNS notification's
// message (watch's alert JSON) and when SNS delivered it (its envelope's
// Timestamp; zero when the body is no SNS notification).
type Delivery struct {
	ID        string
	Message   string
	Delivered time.Time
}

// Inbox is what the sns mode asks of AWS (drillaws.AWS).
type Inbox interface {
	// CreateQueue creates q tagged TagKey=drillID with QueuePolicy; its URL.
	CreateQueue(ctx context.Context, q Queue, drillID string) (string, error)
	// Subscribe subscribes q to its topic, raw message delivery off; the
	// subscription's ARN.
	Subscribe(ctx context.Context, q Queue) (string, error)
	// Subscriptions lists the ARNs of the topic's subscriptions to q.
	Subscriptions(ctx context.Context, q Queue) ([]string, error)
	Unsubscribe(ctx context.Context, q Queue, arn string) error
	// DeleteQueue deletes q; one already gone is no error.
	DeleteQueue(ctx context.Context, q Queue) error
	// QueueListed says whether SQS lists q.
	QueueListed(ctx context.Context, q Queue) (bool, error)
	// Receive long-polls q (its URL) for up to wait (0: answers at once);
	// the messages are not received again during the drill.
	Receive(ctx context.Context, q Queue, wait time.Duration) ([]Delivery, error)
}

// TopicAlerts is the Detector of the team's watch publishing to an SNS
// topic (the Lambda, or watch --sink sns:TOPIC_ARN): it reads the drill's
// queue, subscribed to the topic, long-polling up to Wait at each poll,
// and keeps what it received, so an alert seen at one poll is seen at the
// next. An alert is the drill's as in AlertLog. It knows when each alert
// reached the topic's subscribers (Notifier).
type TopicAlerts struct {
	Inbox Inbox
	Wait  time.Duration
	Warn  func(error)
	seen  map[string]bool
	got   []detect.Alert
	at    map[string]time.Time
}

var (
	_ Detector = (*TopicAlerts)(nil)
	_ Notifier = (*TopicAlerts)(nil)
)

// Alerts are the drill's alerts received so far.
func (t *TopicAlerts) Alerts(ctx context.Context, d *Drill) ([]detect.Alert, error) {
	if d.Queue == nil || d.Queue.URL == "" {
		return nil, fmt.Errorf("no queue subscribed to the topic")
	}
	msgs, err := t.Inbox.Receive(ctx, *d.Queue, t.Wait)
	if err != nil {
		return nil, fmt.Errorf("alerts %s: %w", d.Queue.Topic, err)
	}
	if t.seen == nil {
		t.seen, t.at = map[string]bool{}, map[string]time.Time{}
	}
	for _, m := range msgs {
		if t.seen[m.ID] { // SQS delivers at least once
			continue
		}
		t.seen[m.ID] = true
		a, ok, err := d.alert([]byte(m.Message))
		if err != nil {
			if t.Warn != nil {
				t.Warn(fmt.Errorf("alerts %s: message %s skipped: not an alert of watch's sns sink", d.Queue.Topic, m.ID))
			}
			continue
		}
		if ok {
			t.got = append(t.got, a)
			t.at[alertKey(a)] = m.Delivered
		}
	}
	return t.got, ctx.Err()
}

// Delivered is when SNS delivered a, zero when unknown.
func (t *TopicAlerts) Delivered(a detect.Alert) time.Time { return t.at[alertKey(a)] }

func alertKey(a detect.Alert) string { return a.Rule + "\x00" + a.EventID + "\x00" + a.AccessKeyID }

// Notifier is a Detector that knows when each alert was delivered to the
// sink it reads: the time to notify.
type Notifier interface {
	Delivered(a detect.Alert) time.Time
}

// alert decodes watch's alert JSON (docs/formats.md) and says whether it
// is the drill's: on its key or its session.
func (d *Drill) alert(b []byte) (detect.Alert, bool, error) {
	var a detect.Alert
	if err := json.Unmarshal(b, &a); err != nil {
		return a, false, err
	}
	return a, d.owns(a), nil
}

// owns says whether a is on the drill's key or its session.
func (d *Drill) owns(a detect.Alert) bool {
	return a.AccessKeyID != "" && (a.AccessKeyID == d.KeyID || a.AccessKeyID == d.SessionKeyID)
}

// subscribe creates the drill's queue and subscribes it to the topic,
// each journaled before it is made.
func (e *Engine) subscribe(ctx context.Context, d *Drill, topic string) (string, error) {
	q := NewQueue(topic, d.Account, d.ID)
	d.Queue = &q
	if err := e.save(ctx, d, StepCreate); err != nil {
		return "", err
	}
	url, err := e.AWS.CreateQueue(ctx, q, d.ID)
	if err != nil {
		return "", err
	}
	d.Queue.URL = url
	if err := e.save(ctx, d, StepCreate); err != nil {
		return "", err
	}
	arn, err := e.AWS.Subscribe(ctx, *d.Queue)
	if err != nil {
		return "", err
	}
	d.Queue.Subscription = arn
	return fmt.Sprintf("queue %s tagged %s=%s, subscribed to %s (%s)", q.Name, TagKey, d.ID, topic, arn), e.save(ctx, d, StepCreate)
}

// unsubscribe removes the queue's subscriptions (the journaled one, and
// any a crash left unjournaled) and the queue, verified by listing.
func (e *Engine) unsubscribe(ctx context.Context, d *Drill) (string, error) {
	q := *d.Queue
	subs, err := e.AWS.Subscriptions(ctx, q)
	if err != nil {
		return "", err
	}
	for _, s := range subs {
		if err := e.AWS.Unsubscribe(ctx, q, s); err != nil {
			return "", err
		}
	}
	if err := e.AWS.DeleteQueue(ctx, q); err != nil {
		return "", err
	}
	if left, err := e.AWS.Subscriptions(ctx, q); err != nil || len(left) > 0 {
		return "", fmt.Errorf("topic %s still lists subscriptions of %s after cleanup: %v%v", q.Topic, q.Name, left, orErr(err))
	}
	listed, err := e.AWS.QueueListed(ctx, q)
	if err != nil {
		return "", err
	}
	if listed {
		return "", fmt.Errorf("queue %s is still listed after cleanup (SQS takes up to 60 seconds to delete a queue: run 'keywarden drill cleanup %s' again in a minute)", q.Name, d.ID)
	}
	return fmt.Sprintf("queue %s and its subscription to %s removed; neither listed", q.Name, q.Topic), nil
}

func orErr(err error) string {
	if err == nil {
		return ""
	}
	return " (" + err.Error() + ")"
}
