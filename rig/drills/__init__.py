"""The failover drill campaign on the pilot region (make drills): see campaign.py."""
