package smlocal

import (
	"fmt"
	"time"
)

// Backdate makes the version of secretID that holds stage (e.g.
// "AWSPENDING") look age older: its CreatedDate, as ListSecretVersionIds
// and GetSecretValue report it, moves back by age. It stands in for the
// wait in tests and demos of what depends on a version's age, such as
// rotatectl's and the rotation doctor's stuck-after rule, so they run with
// the age the deployed configuration uses (an hour or more) instead of a
// shorter one. secretID is a name or an ARN, as SecretId.
func (s *Server) Backdate(secretID, stage string, age time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, apiErr := s.lookup(secretID)
	if apiErr != nil {
		return fmt.Errorf("smlocal: backdate %s: %w", secretID, apiErr)
	}
	id, ok := sec.labels[stage]
	if !ok {
		return fmt.Errorf("smlocal: backdate %s: no version holds %s", secretID, stage)
	}
	v := sec.versions[id]
	v.created = v.created.Add(-age)
	return nil
}
