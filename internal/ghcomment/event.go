package ghcomment

import (
	"encoding/json"
	"fmt"
)

// PullRequest is what a comment needs to know of the pull request a
// workflow runs for.
type PullRequest struct {
	Repo    string // owner/name, the base repository (repository.full_name)
	Number  int
	HeadSHA string // pull_request.head.sha
}

// pullRequestEvents are the events whose payload is a pull request's.
var pullRequestEvents = map[string]bool{"pull_request": true, "pull_request_target": true}

// IsPullRequestEvent says whether a workflow triggered by event runs for a
// pull request whose number its payload holds.
func IsPullRequestEvent(event string) bool { return pullRequestEvents[event] }

// ParseEvent reads the pull request from the payload of a pull_request or
// pull_request_target event (the file $GITHUB_EVENT_PATH names). ok is false,
// with no error, for any other event: a push has no pull request to comment on.
func ParseEvent(event string, payload []byte) (pr PullRequest, ok bool, err error) {
	if !IsPullRequestEvent(event) {
		return PullRequest{}, false, nil
	}
	var p struct {
		Number      int `json:"number"`
		PullRequest *struct {
			Number int `json:"number"`
			Head   struct {
				SHA string `json:"sha"`
			} `json:"head"`
		} `json:"pull_request"`
		Repository struct {
			FullName string `json:"full_name"`
		} `json:"repository"`
	}
	if err := json.Unmarshal(payload, &p); err != nil {
		return PullRequest{}, false, fmt.Errorf("reading the %s event payload: %w", event, err)
	}
	if p.PullRequest == nil {
		return PullRequest{}, false, fmt.Errorf("the %s event payload has no pull_request object", event)
	}
	pr = PullRequest{Repo: p.Repository.FullName, Number: p.Number, HeadSHA: p.PullRequest.Head.SHA}
	if pr.Number == 0 {
		pr.Number = p.PullRequest.Number
	}
	if pr.Number <= 0 {
		return PullRequest{}, false, fmt.Errorf("the %s event payload has no pull request number (field number)", event)
	}
	return pr, true, nil
}
