package awsx

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// dialTimeout bounds one connection attempt (the SDK waits 30 s): an AWS
// endpoint, or a local emulator, answers a connect in milliseconds.
const dialTimeout = 5 * time.Second

// maxConnectFailures is how many attempts in a row may fail to connect
// before the next is not retried: an endpoint where nothing listens fails
// within seconds, not after every client's full retry budget (audit's is
// ten attempts, with backoff). Any answer resets the count, so throttling
// keeps its retries and a long run survives a passing outage.
const maxConnectFailures = 3

// ConnectError is a request that never reached its endpoint: refused,
// unresolvable, or no connection within the dial timeout.
type ConnectError struct {
	Endpoint string // scheme://host[:port]
	// Setting names where the endpoint came from when it is not AWS's own
	// ("AWS_ENDPOINT_URL_IAM", "AWS_ENDPOINT_URL"); empty otherwise.
	Setting string
	Reason  string // "connection refused", "cannot resolve HOST", "no connection within 5s"
	Err     error
	final   bool // the budget is spent: no retry
}

func (e *ConnectError) Error() string {
	where := e.Endpoint
	if e.Setting != "" {
		where += " (" + e.Setting + ")"
	}
	return fmt.Sprintf("cannot connect to %s: %s", where, e.Reason)
}

func (e *ConnectError) Unwrap() error { return e.Err }

// RetryableError tells the SDK's retryers whether to try again.
func (e *ConnectError) RetryableError() bool { return !e.final }

// httpClient is the SDK's client with a short dial timeout.
func httpClient() *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().WithDialerOptions(func(d *net.Dialer) { d.Timeout = dialTimeout })
}

// connectBudget counts the attempts in a row, over every client of one
// loaded configuration, that could not connect.
type connectBudget struct {
	mu       sync.Mutex
	failures int
}

// register puts the count under the retry loop, where each attempt passes.
func (b *connectBudget) register(stack *middleware.Stack) error {
	mw := middleware.FinalizeMiddlewareFunc("KeywardenConnectBudget",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleFinalize(ctx, in)
			if awsmiddleware.GetServiceID(ctx) == imds.ServiceID {
				return out, md, err // instance metadata is a credential source: NoCredentialsError says it
			}
			return out, md, b.judge(ctx, in, err)
		})
	if _, ok := stack.Finalize.Get("Retry"); ok {
		return stack.Finalize.Insert(mw, "Retry", middleware.After)
	}
	return stack.Finalize.Add(mw, middleware.After)
}

// judge names a connection failure's endpoint and, once the budget is
// spent, makes it final.
func (b *connectBudget) judge(ctx context.Context, in middleware.FinalizeInput, err error) error {
	reason, unreachable := connectFailure(err)
	b.mu.Lock()
	defer b.mu.Unlock()
	if !unreachable {
		if err == nil || answered(err) {
			b.failures = 0
		}
		return err
	}
	b.failures++
	ce := &ConnectError{Reason: reason, Err: err, final: b.failures >= maxConnectFailures}
	if req, ok := in.Request.(*smithyhttp.Request); ok && req.URL != nil {
		ce.Endpoint = (&url.URL{Scheme: req.URL.Scheme, Host: req.URL.Host}).String()
		ce.Setting = endpointSetting(awsmiddleware.GetServiceID(ctx), ce.Endpoint)
	}
	return ce
}

// answered reports whether err came with a response from the endpoint.
func answered(err error) bool {
	var re *awshttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() != 0
}

// connectFailure tells a request that never reached its endpoint, and why.
func connectFailure(err error) (reason string, ok bool) {
	if err == nil {
		return "", false
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "cannot resolve " + dnsErr.Name, true
	}
	var opErr *net.OpError
	if !errors.As(err, &opErr) || opErr.Op != "dial" {
		return "", false
	}
	if opErr.Timeout() {
		return fmt.Sprintf("no connection within %s", dialTimeout), true
	}
	var sysErr *os.SyscallError
	if errors.As(opErr.Err, &sysErr) {
		return sysErr.Err.Error(), true
	}
	return opErr.Err.Error(), true
}

// endpointSetting names the variable that points service at endpoint, if
// one does: AWS_ENDPOINT_URL_<SERVICE> wins over AWS_ENDPOINT_URL.
func endpointSetting(serviceID, endpoint string) string {
	service := "AWS_ENDPOINT_URL_" + strings.ToUpper(strings.ReplaceAll(serviceID, " ", "_"))
	for _, name := range []string{service, "AWS_ENDPOINT_URL"} {
		if v := os.Getenv(name); v != "" {
			if strings.TrimSuffix(v, "/") == endpoint || strings.HasPrefix(v, endpoint+"/") {
				return name
			}
			return "" // the variable the SDK took points elsewhere: a profile's endpoint_url, say
		}
	}
	return ""
}
