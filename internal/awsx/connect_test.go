package awsx

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"syscall"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// TestConnectBudgetCountsFailuresInARow: only connection failures in a row
// spend the budget; an answer, even an error, starts it again.
func TestConnectBudgetCountsFailuresInARow(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}
	throttled := &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 400}}, Err: errors.New("Throttling")}}
	var b connectBudget
	final := func(err error) bool {
		var ce *ConnectError
		got := b.judge(context.Background(), middleware.FinalizeInput{}, err)
		return errors.As(got, &ce) && !ce.RetryableError()
	}
	for i, step := range []struct {
		err   error
		final bool
	}{
		{refused, false}, {refused, false}, {throttled, false}, // the answer resets the count
		{refused, false}, {refused, false}, {refused, true}, {refused, true},
		{nil, false}, {refused, false},
	} {
		if got := final(step.err); got != step.final {
			t.Errorf("step %d (%v): final = %v, want %v", i, step.err, got, step.final)
		}
	}
	var ce *ConnectError
	if !errors.As(b.judge(context.Background(), middleware.FinalizeInput{}, refused), &ce) || ce.Reason != "connection refused" {
		t.Errorf("reason = %q, want connection refused", ce.Reason)
	}
}

func TestSDKLoggerDropsOnlyTheIMDSFallback(t *testing.T) {
	var buf bytes.Buffer
	l := sdkLogger{logging.NewStandardLogger(&buf)}
	l.Logf(logging.Warn, "falling back to IMDSv1: %v", "403")
	if buf.Len() != 0 {
		t.Errorf("IMDSv1 fallback logged: %q", buf.String())
	}
	l.Logf(logging.Warn, "something else")
	if !bytes.Contains(buf.Bytes(), []byte("something else")) {
		t.Error("other SDK warnings are dropped")
	}
}

// TestLenientErrorsOnce: Load puts LenientErrors in every client and the
// IAM and STS builders add it again: the second is a no-op, not an error.
func TestLenientErrorsOnce(t *testing.T) {
	stack := middleware.NewStack("op", smithyhttp.NewStackRequest)
	if err := stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("OperationDeserializer",
		func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
			return next.HandleDeserialize(ctx, in)
		}), middleware.After); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := LenientErrors(stack); err != nil {
			t.Fatalf("LenientErrors #%d: %v", i+1, err)
		}
	}
	if n := len(stack.Deserialize.List()); n != 3 {
		t.Errorf("deserialize step holds %d middlewares, want 3", n)
	}
}
