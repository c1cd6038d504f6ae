using FlashSale.Engine;
using FlashSale.Engine.Admission;
using FlashSale.Engine.Campaigns;
using FlashSale.Engine.Lifecycle;
using FlashSale.Engine.Live;
using FlashSale.Engine.Orders;
using FlashSale.Engine.Reconciliation;
using FlashSale.Engine.Relay;
using FlashSale.Engine.Reservations;
using FlashSale.Engine.Storage;
using FlashSale.Ingress.Admission;
using FlashSale.Ingress.Campaigns;
using FlashSale.Ingress.Console;
using FlashSale.Ingress.Infrastructure;
using FlashSale.Ingress.Orders;
using FlashSale.Ingress.Payments;
using FlashSale.Ingress.Reservations;

var builder = WebApplication.CreateBuilder(args);

builder.AddFlashSaleTokens();
builder.AddCampaigns();
builder.AddReservations();
builder.AddAdmission();
builder.AddRelay();
builder.AddOrderQueries();
builder.AddLifecycle();
builder.AddReconciliation();
builder.AddIngressHttp();
builder.AddIngressAuth();
builder.AddIngressOperations();
builder.AddPayments();
builder.AddAdmissionControl();
builder.AddLiveView();

var app = builder.Build();

await app.Services.MigrateCatalogAsync();
await app.Services.MigrateShardsAsync();

app.UseClientAddress();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseConsolePage();
app.UseAuthentication();
app.UseAuthorization();
// Answers come in this order: 401/403 for the token (above), 403 admission-required (the waiting room's door), 429
// rate-limited (the limits), then in the reservation itself 503 busy (backpressure) and the decision.
app.UseAdmission();
app.UseReservationRateLimits();

app.MapIngressOperations();
app.MapCampaignAdminApi();
app.MapCampaignsApi();
app.MapReservationsApi();
app.MapQueueApi();
app.MapOrdersApi();
app.MapPaymentsApi();
app.MapPaymentsAdminApi();
app.MapConsole();

await app.RunAsync();

/// <summary>The entry point, visible to the functional tests' WebApplicationFactory.</summary>
public partial class Program;
