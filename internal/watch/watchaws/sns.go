package watchaws

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/keywarden/keywarden/internal/watch"
)

// SNS publishes the sns: sink's messages to one topic.
type SNS struct {
	topic  string
	client *sns.Client
}

var _ watch.Publisher = (*SNS)(nil)

// SNSPublisher is watch.SinkEnv's SNS: it publishes to a topic through
// cfg's credentials, in the topic's own region whatever cfg's is.
func SNSPublisher(cfg aws.Config) func(topicARN string) watch.Publisher {
	return func(topic string) watch.Publisher {
		cfg := cfg.Copy()
		if parts := strings.Split(topic, ":"); len(parts) > 3 && parts[3] != "" {
			cfg.Region = parts[3]
		}
		return &SNS{topic: topic, client: sns.NewFromConfig(cfg)}
	}
}

// Publish sends one message, its attributes as String attributes.
func (s *SNS) Publish(ctx context.Context, m watch.Message) error {
	attrs := make(map[string]snstypes.MessageAttributeValue, len(m.Attributes))
	for k, v := range m.Attributes {
		attrs[k] = snstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	_, err := s.client.Publish(ctx, &sns.PublishInput{
		TopicArn: aws.String(s.topic), Subject: aws.String(m.Subject), Message: aws.String(m.Body), MessageAttributes: attrs,
	})
	return err
}
