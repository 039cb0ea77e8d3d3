"""Adapters: the only modules that import boto3 or docker."""
