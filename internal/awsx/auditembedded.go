package awsx

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/klauspost/compress/gzip"

	"github.com/keywarden/keywarden/internal/audit"
	"github.com/keywarden/keywarden/internal/scan"
)

// Bounds of the embedded-key reads, so that a huge or hostile account
// cannot make the audit run without end or hold unbounded memory. A read cut
// short warns and leaves the place unknown.
const (
	embeddedMaxResources = 2000    // functions, instances, task definitions, parameters: each, per region
	embeddedMaxUserData  = 1 << 20 // decompressed user data (AWS allows 16 KB raw, gzip'd)
	ssmBatch             = 10      // GetParameters takes at most 10 names
)

// embeddedKeys reads the places where access keys get pasted in plain text
// (Lambda environments, EC2 user data, ECS task definitions, SSM String
// parameters) in the configured region and runs each through the scan
// detector. Every read is optional: a failure warns and marks the place
// unread. Only a cancelled ctx is an error.
func (r *accountReader) embeddedKeys(ctx context.Context) error {
	det := scan.NewDetector()
	r.lambdaEnv(ctx, det)
	r.ec2UserData(ctx, det)
	r.ecsTaskEnv(ctx, det)
	r.ssmStrings(ctx, det)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("read embedded keys: %w", err)
	}
	return nil
}

// unread marks a place as not (fully) read, once.
func (r *accountReader) unread(where string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !slices.Contains(r.inv.EmbeddedUnread, where) {
		r.inv.EmbeddedUnread = append(r.inv.EmbeddedUnread, where)
	}
}

// embeddedFailed records a failed read of where.
func (r *accountReader) embeddedFailed(action, where string, err error) {
	r.optional(action, "keys embedded in "+where, err)
	r.unread(where)
}

// tooMany records a read cut at embeddedMaxResources.
func (r *accountReader) tooMany(what, where string) {
	r.warn("more than %d %s in %s: the rest were not read for embedded keys", embeddedMaxResources, what, r.cfg.Region)
	r.unread(where)
}

// record turns the detector's matches in one place into inventory entries;
// detail names where in the resource each match is.
func (r *accountReader) record(where, resource string, ms []scan.Match, detail func(scan.Match) string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range ms {
		r.inv.Embedded = append(r.inv.Embedded, audit.EmbeddedKey{
			Where: where, Resource: resource, Detail: detail(m), Rule: m.Rule, KeyID: m.KeyID,
			Secret: m.Secret, SecretSHA256: m.Secret.SHA256(), Encoding: m.Encoding,
		})
	}
}

// envText is an environment laid out as "NAME=VALUE" lines, sorted by name,
// so the detector sees AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY side by
// side and pairs them.
type envText struct {
	text  []byte
	vars  [][2]string // name, value in text order
	owner []string    // owner[line-1] is the variable that line belongs to
}

func newEnvText(vars map[string]string) envText {
	var e envText
	var b bytes.Buffer
	for _, name := range slices.Sorted(maps.Keys(vars)) {
		v := vars[name]
		fmt.Fprintf(&b, "%s=%s\n", name, v)
		e.vars = append(e.vars, [2]string{name, v})
		for range strings.Count(v, "\n") + 1 {
			e.owner = append(e.owner, name)
		}
	}
	e.text = b.Bytes()
	return e
}

// names says which variables hold a match: those whose value holds its key
// id or its secret (compared in memory only), else the variable on the
// match's line (a key found encoded is not in any value as such).
func (e envText) names(m scan.Match) string {
	var out []string
	for _, v := range e.vars {
		if (m.KeyID != "" && strings.Contains(v[1], m.KeyID)) ||
			(!m.Secret.IsZero() && strings.Contains(v[1], m.Secret.Reveal())) {
			out = append(out, v[0])
		}
	}
	if len(out) == 0 && m.Line >= 1 && m.Line <= len(e.owner) {
		out = append(out, e.owner[m.Line-1])
	}
	return strings.Join(out, ", ")
}

// lambdaEnv reads every function's environment: ListFunctions returns it,
// so one call per page reads them all.
func (r *accountReader) lambdaEnv(ctx context.Context, det *scan.Detector) {
	client := lambda.NewFromConfig(r.cfg, func(o *lambda.Options) {
		o.Retryer = auditRetryer(r.cfg)
		o.APIOptions = append(slices.Clip(o.APIOptions), r.countCalls)
	})
	pages := lambda.NewListFunctionsPaginator(client, &lambda.ListFunctionsInput{MaxItems: aws.Int32(50)})
	seen := 0
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			r.embeddedFailed("lambda:ListFunctions", audit.WhereLambdaEnv, err)
			return
		}
		for _, fn := range page.Functions {
			if seen++; seen > embeddedMaxResources {
				r.tooMany("Lambda functions", audit.WhereLambdaEnv)
				return
			}
			if fn.Environment == nil || len(fn.Environment.Variables) == 0 {
				continue
			}
			env := newEnvText(fn.Environment.Variables)
			r.record(audit.WhereLambdaEnv, aws.ToString(fn.FunctionArn), det.Find(env.text), env.names)
		}
	}
}

// ec2UserData reads each instance's user data (one DescribeInstanceAttribute
// per instance: DescribeInstances does not return it). The instances come
// from the infrastructure read when it listed this region, else from a
// listing of their own.
func (r *accountReader) ec2UserData(ctx context.Context, det *scan.Detector) {
	client := ec2.NewFromConfig(r.cfg, func(o *ec2.Options) {
		o.Retryer = auditRetryer(r.cfg)
		o.APIOptions = append(slices.Clip(o.APIOptions), r.countCalls, lenientErrors)
	})
	ids, ok := r.knownInstances()
	if !ok {
		if ids, ok = r.listInstances(ctx, client); !ok {
			return
		}
	}
	if len(ids) > embeddedMaxResources {
		ids = ids[:embeddedMaxResources]
		r.tooMany("EC2 instances", audit.WhereEC2UserData)
	}
	for _, id := range ids {
		if ctx.Err() != nil {
			return
		}
		r.instanceUserData(ctx, client, det, id)
	}
}

// knownInstances returns the ids the infrastructure read listed, if it
// listed exactly the configured region.
func (r *accountReader) knownInstances() ([]string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.inv.InstancesRead || !slices.Equal(r.inv.InstanceRegions, []string{r.cfg.Region}) {
		return nil, false
	}
	ids := make([]string, 0, len(r.inv.Instances))
	for _, in := range r.inv.Instances {
		ids = append(ids, in.ID)
	}
	return ids, true
}

// listInstances lists the ids of the region's instances that are not
// terminated (a terminated instance's user data is gone with it), stopping
// one past embeddedMaxResources.
func (r *accountReader) listInstances(ctx context.Context, client *ec2.Client) ([]string, bool) {
	var ids []string
	pages := ec2.NewDescribeInstancesPaginator(client, &ec2.DescribeInstancesInput{})
	for pages.HasMorePages() && len(ids) <= embeddedMaxResources {
		page, err := pages.NextPage(ctx)
		if err != nil {
			r.embeddedFailed("ec2:DescribeInstances", audit.WhereEC2UserData, err)
			return nil, false
		}
		for _, res := range page.Reservations {
			for _, inst := range res.Instances {
				if inst.State == nil || inst.State.Name != ec2types.InstanceStateNameTerminated {
					ids = append(ids, aws.ToString(inst.InstanceId))
				}
			}
		}
	}
	return ids, true
}

func (r *accountReader) instanceUserData(ctx context.Context, client *ec2.Client, det *scan.Detector, id string) {
	out, err := client.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{
		InstanceId: aws.String(id), Attribute: ec2types.InstanceAttributeNameUserData})
	if err != nil {
		r.embeddedFailed("ec2:DescribeInstanceAttribute", audit.WhereEC2UserData, err)
		return
	}
	if out.UserData == nil || aws.ToString(out.UserData.Value) == "" {
		return
	}
	data, err := decodeUserData(aws.ToString(out.UserData.Value))
	if err != nil {
		r.warn("user data of instance %s: %v: scanned as far as it could be read", id, err)
	}
	// An account's instances are its own; ReadAccount reads embedded keys
	// once the account id is known.
	arn := fmt.Sprintf("arn:%s:ec2:%s:%s:instance/%s", partitionOf(r.cfg.Region), r.cfg.Region, r.inv.AccountID, id)
	r.record(audit.WhereEC2UserData, arn, det.Find(data), func(scan.Match) string { return "userData" })
}

// decodeUserData undoes the attribute's base64 and, when the user data is
// gzip'd (common with cloud-init), decompresses up to embeddedMaxUserData.
// On an error it returns what it could decode, so that is still scanned.
func decodeUserData(b64 string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return []byte(b64), fmt.Errorf("not base64: %w", err)
	}
	if len(raw) < 2 || raw[0] != 0x1f || raw[1] != 0x8b {
		return raw, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return raw, fmt.Errorf("gzip: %w", err)
	}
	out, err := io.ReadAll(io.LimitReader(zr, embeddedMaxUserData+1))
	if err != nil {
		return out, fmt.Errorf("gzip: %w", err)
	}
	if len(out) > embeddedMaxUserData {
		return out[:embeddedMaxUserData], fmt.Errorf("decompressed user data exceeds %d bytes", embeddedMaxUserData)
	}
	return out, nil
}

// partitionOf is the ARN partition of a region.
func partitionOf(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// ecsTaskEnv reads the environment of every container of every ACTIVE task
// definition revision (one DescribeTaskDefinition per revision).
func (r *accountReader) ecsTaskEnv(ctx context.Context, det *scan.Detector) {
	client := ecs.NewFromConfig(r.cfg, func(o *ecs.Options) {
		o.Retryer = auditRetryer(r.cfg)
		o.APIOptions = append(slices.Clip(o.APIOptions), r.countCalls)
	})
	pages := ecs.NewListTaskDefinitionsPaginator(client, &ecs.ListTaskDefinitionsInput{
		Status: ecstypes.TaskDefinitionStatusActive, MaxResults: aws.Int32(100)})
	seen := 0
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			r.embeddedFailed("ecs:ListTaskDefinitions", audit.WhereECSTaskEnv, err)
			return
		}
		for _, arn := range page.TaskDefinitionArns {
			if seen++; seen > embeddedMaxResources {
				r.tooMany("ECS task definitions", audit.WhereECSTaskEnv)
				return
			}
			if ctx.Err() != nil {
				return
			}
			out, err := client.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(arn)})
			if err != nil {
				r.embeddedFailed("ecs:DescribeTaskDefinition", audit.WhereECSTaskEnv, err)
				continue
			}
			if out.TaskDefinition == nil {
				continue
			}
			for _, c := range out.TaskDefinition.ContainerDefinitions {
				r.containerEnv(det, arn, c)
			}
		}
	}
}

func (r *accountReader) containerEnv(det *scan.Detector, arn string, c ecstypes.ContainerDefinition) {
	vars := map[string]string{}
	for _, kv := range c.Environment {
		vars[aws.ToString(kv.Name)] = aws.ToString(kv.Value)
	}
	if len(vars) == 0 {
		return
	}
	env := newEnvText(vars)
	name := aws.ToString(c.Name)
	r.record(audit.WhereECSTaskEnv, arn, det.Find(env.text), func(m scan.Match) string {
		return name + "/" + env.names(m)
	})
}

// ssmStrings reads every String parameter (SecureString values are
// encrypted by design and not read), in batches of ten.
func (r *accountReader) ssmStrings(ctx context.Context, det *scan.Detector) {
	client := ssm.NewFromConfig(r.cfg, func(o *ssm.Options) {
		o.Retryer = auditRetryer(r.cfg)
		o.APIOptions = append(slices.Clip(o.APIOptions), r.countCalls)
	})
	pages := ssm.NewDescribeParametersPaginator(client, &ssm.DescribeParametersInput{
		MaxResults: aws.Int32(50),
		ParameterFilters: []ssmtypes.ParameterStringFilter{{
			Key: aws.String("Type"), Option: aws.String("Equals"), Values: []string{string(ssmtypes.ParameterTypeString)}}},
	})
	var names []string
	for pages.HasMorePages() && len(names) <= embeddedMaxResources {
		page, err := pages.NextPage(ctx)
		if err != nil {
			r.embeddedFailed("ssm:DescribeParameters", audit.WhereSSMString, err)
			return
		}
		for _, p := range page.Parameters {
			names = append(names, aws.ToString(p.Name))
		}
	}
	if len(names) > embeddedMaxResources {
		names = names[:embeddedMaxResources]
		r.tooMany("SSM String parameters", audit.WhereSSMString)
	}
	for batch := range slices.Chunk(names, ssmBatch) {
		if ctx.Err() != nil {
			return
		}
		out, err := client.GetParameters(ctx, &ssm.GetParametersInput{Names: batch})
		if err != nil {
			r.embeddedFailed("ssm:GetParameters", audit.WhereSSMString, err)
			continue
		}
		for _, p := range out.Parameters {
			if p.Type != ssmtypes.ParameterTypeString {
				continue
			}
			name := aws.ToString(p.Name)
			r.record(audit.WhereSSMString, aws.ToString(p.ARN), det.Find([]byte(aws.ToString(p.Value))),
				func(scan.Match) string { return name })
		}
	}
}
