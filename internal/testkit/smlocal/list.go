package smlocal

import "sort"

type listSecretsInput struct {
	MaxResults             *int64
	NextToken              *string
	IncludePlannedDeletion bool
}

type listSecretsEntry struct {
	ARN         string
	Name        string
	Description *string `json:",omitempty"`
	KmsKeyId    *string `json:",omitempty"`
	secretState
	SecretVersionsToStages map[string][]string `json:",omitempty"`
}

type listSecretsOutput struct {
	SecretList []listSecretsEntry
	NextToken  *string `json:",omitempty"`
}

func (o listSecretsOutput) nextToken() *string          { return o.NextToken }
func (o listSecretsOutput) withNextToken(t *string) any { o.NextToken = t; return o }

// listSecrets lists the secrets by name (the service's order is
// unspecified), without those scheduled for deletion unless asked.
// Filters and sorting are not modelled.
func (s *Server) listSecrets(in listSecretsInput) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []*secret
	for _, sec := range s.secrets {
		if !sec.isDeleted() || in.IncludePlannedDeletion {
			all = append(all, sec)
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].name < all[j].name })
	r, next, err := paginate(len(all), in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := listSecretsOutput{SecretList: []listSecretsEntry{}, NextToken: next}
	for _, sec := range all[r.start:r.end] {
		out.SecretList = append(out.SecretList, listSecretsEntry{
			ARN: sec.arn, Name: sec.name, Description: sec.description, KmsKeyId: sec.kmsKeyID,
			secretState: stateOf(sec), SecretVersionsToStages: sec.versionIDsToStages(),
		})
	}
	return out, nil
}
