"""What installing and deploying relies on: README commands, constraints, the wheel, deploy/."""
