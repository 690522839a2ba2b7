"""Floyo's Pulumi components: one `ComponentResource` per file."""
