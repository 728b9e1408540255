"""Connected payers: state agencies, municipalities, regions and unemployment funds, and their API tokens."""
