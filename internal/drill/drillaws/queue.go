package drillaws

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/drill"
)

var _ drill.Inbox = (*AWS)(nil)

// regional is cfg in topic's region (the queue lives beside its topic).
func (a *AWS) regional(topic string) aws.Config {
	cfg := a.cfg.Copy()
	if p := strings.Split(topic, ":"); len(p) == 6 && p[3] != "" {
		cfg.Region = p[3]
	}
	return cfg
}

func (a *AWS) sqs(topic string) *sqs.Client { return sqs.NewFromConfig(a.regional(topic)) }
func (a *AWS) sns(topic string) *sns.Client { return sns.NewFromConfig(a.regional(topic)) }

// CreateQueue creates q, tagged, with the policy that lets only its topic
// send. A queue the same drill made before is no error (SQS answers a
// create with the same attributes with its URL).
func (a *AWS) CreateQueue(ctx context.Context, q drill.Queue, drillID string) (string, error) {
	out, err := a.sqs(q.Topic).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(q.Name),
		Attributes: map[string]string{string(sqstypes.QueueAttributeNamePolicy): drill.QueuePolicy(q)},
		Tags:       map[string]string{drill.TagKey: drillID}})
	if err != nil {
		return "", awsx.Plain(fmt.Errorf("sqs create-queue %s: %w", q.Name, err))
	}
	return aws.ToString(out.QueueUrl), nil
}

// Subscribe subscribes q to its topic with raw message delivery off: each
// message is SNS's envelope, its Timestamp the delivery's time.
func (a *AWS) Subscribe(ctx context.Context, q drill.Queue) (string, error) {
	out, err := a.sns(q.Topic).Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(q.Topic), Protocol: aws.String("sqs"),
		Endpoint: aws.String(q.ARN), Attributes: map[string]string{"RawMessageDelivery": "false"}, ReturnSubscriptionArn: true})
	if err != nil {
		return "", awsx.Plain(fmt.Errorf("sns subscribe %s to %s: %w", q.Name, q.Topic, err))
	}
	return aws.ToString(out.SubscriptionArn), nil
}

// Subscriptions lists the topic's subscriptions whose endpoint is q.
func (a *AWS) Subscriptions(ctx context.Context, q drill.Queue) ([]string, error) {
	var arns []string
	p := sns.NewListSubscriptionsByTopicPaginator(a.sns(q.Topic), &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(q.Topic)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if awsx.ErrorCode(err) == "NotFound" { // the topic is gone, and its subscriptions with it
			return nil, nil
		}
		if err != nil {
			return nil, awsx.Plain(fmt.Errorf("sns list-subscriptions-by-topic %s: %w", q.Topic, err))
		}
		for _, s := range out.Subscriptions {
			if aws.ToString(s.Endpoint) == q.ARN {
				arns = append(arns, aws.ToString(s.SubscriptionArn))
			}
		}
	}
	return arns, nil
}

// Unsubscribe removes subscription arn; one already gone is no error.
func (a *AWS) Unsubscribe(ctx context.Context, q drill.Queue, arn string) error {
	if !strings.HasPrefix(arn, "arn:") { // "PendingConfirmation": nothing to remove, SNS drops it in 3 days
		return nil
	}
	_, err := a.sns(q.Topic).Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: aws.String(arn)})
	if err != nil && awsx.ErrorCode(err) != "NotFound" {
		return awsx.Plain(fmt.Errorf("sns unsubscribe %s: %w", arn, err))
	}
	return nil
}

// DeleteQueue deletes q, found by name; one already gone is no error.
func (a *AWS) DeleteQueue(ctx context.Context, q drill.Queue) error {
	c := a.sqs(q.Topic)
	url, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(q.Name)})
	if gone(err) {
		return nil
	}
	if err != nil {
		return awsx.Plain(fmt.Errorf("sqs get-queue-url %s: %w", q.Name, err))
	}
	if _, err := c.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: url.QueueUrl}); err != nil && !gone(err) {
		return awsx.Plain(fmt.Errorf("sqs delete-queue %s: %w", q.Name, err))
	}
	return nil
}

func gone(err error) bool {
	code := awsx.ErrorCode(err)
	return code == "AWS.SimpleQueueService.NonExistentQueue" || code == "QueueDoesNotExist"
}

// QueueListed says whether ListQueues lists q's name.
func (a *AWS) QueueListed(ctx context.Context, q drill.Queue) (bool, error) {
	p := sqs.NewListQueuesPaginator(a.sqs(q.Topic), &sqs.ListQueuesInput{QueueNamePrefix: aws.String(q.Name)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return false, awsx.Plain(fmt.Errorf("sqs list-queues %s: %w", q.Name, err))
		}
		for _, u := range out.QueueUrls {
			if strings.HasSuffix(u, "/"+q.Name) {
				return true, nil
			}
		}
	}
	return false, nil
}

// maxWait is SQS's longest long poll.
const maxWait = 20 * time.Second

// Receive long-polls the queue for up to wait (at most 20 s, SQS's
// limit), ten messages at most, hidden for 12 hours once received so a
// drill reads each once; each SNS envelope's message and Timestamp.
func (a *AWS) Receive(ctx context.Context, q drill.Queue, wait time.Duration) ([]drill.Delivery, error) {
	out, err := a.sqs(q.Topic).ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.URL), MaxNumberOfMessages: 10,
		WaitTimeSeconds: int32(min(wait, maxWait) / time.Second), VisibilityTimeout: 12 * 60 * 60})
	if err != nil {
		return nil, awsx.Plain(fmt.Errorf("sqs receive-message: %w", err))
	}
	got := make([]drill.Delivery, 0, len(out.Messages))
	for _, m := range out.Messages {
		got = append(got, delivery(aws.ToString(m.MessageId), aws.ToString(m.Body)))
	}
	return got, nil
}

// envelope is SNS's notification as an SQS subscriber receives it.
type envelope struct {
	Type      string
	MessageID string `json:"MessageId"`
	Message   string
	Timestamp time.Time
}

// delivery reads an SNS envelope; a body that is none (raw delivery
// turned on by someone) is the message itself, its delivery time unknown.
func delivery(id, body string) drill.Delivery {
	var env envelope
	if err := json.Unmarshal([]byte(body), &env); err != nil || env.Type != "Notification" {
		return drill.Delivery{ID: id, Message: body}
	}
	return drill.Delivery{ID: env.MessageID, Message: env.Message, Delivered: env.Timestamp}
}
