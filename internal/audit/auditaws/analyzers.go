package auditaws

import (
	"context"
	"maps"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/accessanalyzer"

	"github.com/keywarden/keywarden/internal/audit"
)

// placeAnalyzers is the regional read of IAM Access Analyzer's analyzers.
const placeAnalyzers = "access-analyzers"

// listAnalyzers lists the region's IAM Access Analyzer analyzers (one
// ListAnalyzers per page).
func (rr *regionRead) listAnalyzers(ctx context.Context) {
	pages := accessanalyzer.NewListAnalyzersPaginator(accessanalyzer.NewFromConfig(rr.acct.configIn(rr.region)), &accessanalyzer.ListAnalyzersInput{})
	var out []audit.Analyzer
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			rr.fail("access-analyzer:ListAnalyzers", err, placeAnalyzers)
			return
		}
		rr.ok()
		for _, a := range page.Analyzers {
			out = append(out, audit.Analyzer{Name: aws.ToString(a.Name), ARN: aws.ToString(a.Arn), Type: string(a.Type), Status: string(a.Status),
				Tags: maps.Clone(a.Tags)})
		}
	}
	rr.analyzers = out
}
