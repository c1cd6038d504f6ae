using FlashSale.Engine;
using FlashSale.Engine.Pipeline;
using FlashSale.Ingress.Campaigns;
using FlashSale.Ingress.Infrastructure;
using FlashSale.Ingress.Orders;
using FlashSale.Ingress.Payments;
using FlashSale.Ingress.Relay;
using FlashSale.Ingress.Reservations;

var builder = WebApplication.CreateBuilder(args);

builder.AddFlashSaleEngine();
builder.AddFlashSaleTokens();
builder.AddFlashSaleShards();
builder.AddIngressHttp();
builder.AddIngressAuth();
builder.AddIngressOperations();
builder.AddOutboxRelay();
builder.AddPayments();

var app = builder.Build();

await app.Services.MigrateCatalogAsync();
await app.Services.MigrateShardsAsync();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseAuthentication();
app.UseAuthorization();

app.MapIngressOperations();
app.MapCampaignAdminApi();
app.MapCampaignsApi();
app.MapReservationsApi();
app.MapOrdersApi();
app.MapPaymentsApi();
app.MapPaymentsAdminApi();

await app.RunAsync();

/// <summary>The entry point, visible to the functional tests' WebApplicationFactory.</summary>
public partial class Program;
